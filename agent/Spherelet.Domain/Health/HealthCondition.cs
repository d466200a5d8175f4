namespace Spherelet.Domain.Health;

/// <summary>A runtime condition as CRI reports it (RuntimeReady, NetworkReady).</summary>
public sealed record HealthCondition(string Type, bool Status, string Reason, string Message);
