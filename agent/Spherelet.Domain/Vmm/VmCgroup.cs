using Spherelet.Domain.Node;

namespace Spherelet.Domain.Vmm;

/// <summary>
/// Where a pod VM's processes (QEMU and its helpers) run on the host: under the kubelet's cgroup
/// for the pod, so node-allocatable, QoS, eviction and RuntimeClass overhead count the VM.
/// </summary>
/// <param name="Driver">How <paramref name="Parent"/> is spelled: a cgroupfs path or a systemd slice name.</param>
/// <param name="Parent">
/// The pod's cgroup: <c>/kubepods/burstable/podUID</c> (cgroupfs, relative to each hierarchy's root)
/// or the pod's slice (systemd): its path as the kubelet sends it (<c>/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podUID.slice</c>) or its name.
/// </param>
/// <param name="CpuShares">The VM's CPU weight as cgroup v1 shares (2 to 262144), 0 for the default.</param>
/// <param name="CpusetCpus">Host CPUs the VM may run on (cpuset list), empty for any.</param>
/// <param name="CpusetMems">Host memory nodes the VM may use (cpuset list), empty for any.</param>
public sealed record VmCgroup(CgroupDriver Driver, string Parent, long CpuShares, string CpusetCpus = "", string CpusetMems = "")
{
    /// <summary>The name of the VM's own cgroup under the pod's: a leaf (cgroup v2 allows processes only in leaves).</summary>
    public static string LeafName(string vmName, CgroupDriver driver) =>
        driver == CgroupDriver.Systemd ? $"spherelet-{vmName}.scope" : $"spherelet-{vmName}";
}
