namespace Spherelet.Domain.Containers;

/// <summary>A CreateContainer request in domain terms (not yet validated).</summary>
public sealed record CreateContainerCommand
{
    public required string SandboxId { get; init; }

    public required ContainerMetadata? Metadata { get; init; }

    /// <summary>The image, resolved by the caller (it exists on the node).</summary>
    public required ContainerImage Image { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();

    /// <summary>Relative to the pod's log directory; empty for no log.</summary>
    public string LogPath { get; init; } = string.Empty;

    public bool Tty { get; init; }

    public bool Stdin { get; init; }

    public bool StdinOnce { get; init; }

    public IReadOnlyList<MountRequest> Mounts { get; init; } = [];

    /// <summary>The container's limit on 2 MiB hugepages in bytes (0 for none): the pod VM is given hugepage memory for it.</summary>
    public long Hugepages2MBBytes { get; init; }

    /// <summary>The devices the container asks for (CRI <c>devices</c>), checked for form already.</summary>
    public IReadOnlyList<DeviceRequest> Devices { get; init; } = [];

    /// <summary>The host CPUs and memory nodes the container may use (applied to its pod's VM).</summary>
    public HostCpuset HostCpuset { get; init; } = HostCpuset.Any;

    /// <summary>The signal StopContainer sends first.</summary>
    public int StopSignal { get; init; } = ContainerService.SigTerm;

    /// <summary>
    /// Computes the OCI spec once the container's id and paths are known; a pure function of the
    /// request. Throws <see cref="Errors.InvalidRequestException"/> for what cannot be honoured.
    /// </summary>
    public required Func<ContainerSpecContext, ContainerSpec> BuildSpec { get; init; }
}
