using Runtime.V1;
using Spherelet.Images.Store;

namespace Spherelet.Cri.Oci;

/// <summary>Everything the OCI runtime spec of one container is computed from.</summary>
public sealed record OciSpecInput
{
    public required string ContainerId { get; init; }

    public required ContainerConfig Container { get; init; }

    public required PodSandboxConfig Sandbox { get; init; }

    public required ImageConfigInfo Image { get; init; }

    /// <summary>The container's root file system as the guest sees it.</summary>
    public required string RootfsPath { get; init; }

    /// <summary>Where CRX keeps the sandbox's hostname, hosts and resolv.conf in the guest.</summary>
    public required string SandboxFilesDirectory { get; init; }

    /// <summary>The cgroup of the container inside the VM.</summary>
    public required string CgroupsPath { get; init; }

    /// <summary>The image's /etc/passwd and /etc/group (empty when the image has none).</summary>
    public string Passwd { get; init; } = string.Empty;

    public string Group { get; init; } = string.Empty;

    /// <summary>The Localhost seccomp profile's JSON, read by the caller from the node; null otherwise.</summary>
    public string? LocalhostSeccompProfile { get; init; }

    /// <summary>Volume mounts, resolved to guest paths by the caller.</summary>
    public IReadOnlyList<OciMount> Mounts { get; init; } = [];

    /// <summary>The 2 MiB hugepages the pod needs in all (CRX makes them in the VM first); 0 for none.</summary>
    public long PodHugepages2MB { get; init; }

    /// <summary>Host block devices hot-plugged into the VM for this container: container path to the disk's serial.</summary>
    public IReadOnlyDictionary<string, string> BlockDeviceSerials { get; init; } = new Dictionary<string, string>();
}
