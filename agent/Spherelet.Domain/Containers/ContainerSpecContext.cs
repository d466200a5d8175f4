namespace Spherelet.Domain.Containers;

/// <summary>What the OCI spec of a new container is computed with, besides the request: paths as the pod VM sees them.</summary>
/// <param name="RootfsPath">The container's root file system (CRX mounts the overlay there).</param>
/// <param name="CgroupsPath">The container's cgroup in the VM.</param>
/// <param name="SandboxFilesDirectory">Where CRX keeps the pod's hostname, hosts and resolv.conf.</param>
/// <param name="Mounts">The host path mounts, bound into the pod share.</param>
public sealed record ContainerSpecContext(
    string ContainerId, string RootfsPath, string CgroupsPath, string SandboxFilesDirectory, IReadOnlyList<ContainerMount> Mounts)
{
    /// <summary>The host block devices given to the pod's VM for this container, by container path.</summary>
    public IReadOnlyDictionary<string, Vmm.VmDisk> Disks { get; init; } = new Dictionary<string, Vmm.VmDisk>();

    /// <summary>The 2 MiB hugepages the pod's containers need in all (CRX makes that many in the VM before this container starts); 0 for none.</summary>
    public long PodHugepages2MB { get; init; }
}
