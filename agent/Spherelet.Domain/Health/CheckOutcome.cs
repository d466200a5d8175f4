namespace Spherelet.Domain.Health;

/// <summary>Result of one host check.</summary>
public enum CheckOutcome
{
    Ok,

    /// <summary>Works, but not as well as it could (for example TCG instead of KVM).</summary>
    Warning,

    Failed,
}
