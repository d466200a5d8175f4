namespace Spherelet.Domain.Containers;

/// <summary>How mounts below a host path mount propagate (CRI's MountPropagation).</summary>
public enum MountPropagation
{
    /// <summary>None either way.</summary>
    Private = 0,

    /// <summary>Mounts made on the host later appear in the container (the share is a slave of the host path).</summary>
    HostToContainer = 1,

    /// <summary>Both ways: not possible across the VM boundary, refused.</summary>
    Bidirectional = 2,
}
