namespace Spherelet.Domain.Health;

/// <summary>Which CRI condition a host check feeds.</summary>
public enum HealthArea
{
    /// <summary>Feeds RuntimeReady: pods cannot run without it.</summary>
    Runtime,

    /// <summary>Feeds NetworkReady: pods cannot get a network without it.</summary>
    Network,

    /// <summary>Informational only (for example KVM versus TCG); feeds no condition.</summary>
    Host,
}
