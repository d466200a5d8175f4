namespace Spherelet.Agent.Network;

/// <summary>A pod's lease in the allocations file.</summary>
public sealed record PodLeaseFile(string SandboxId, string Namespace, string Address, string Mac, string? AddressV6 = null);
