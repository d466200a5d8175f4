namespace Spherelet.Domain.Vmm;

/// <summary>Puts a pod VM's processes into their own cgroup under the pod's, keeps its CPU settings, and removes it with the VM.</summary>
public interface IVmCgroups
{
    /// <summary>Moves process <paramref name="pid"/> (the VM's QEMU) into the VM's leaf cgroup under <see cref="VmCgroup.Parent"/>, making it.</summary>
    Task PlaceAsync(int pid, string vmName, VmCgroup cgroup, CancellationToken cancellationToken);

    /// <summary>Applies a new CPU weight and cpusets to the VM's leaf cgroup.</summary>
    void Update(string vmName, VmCgroup cgroup);

    /// <summary>Removes the VM's leaf cgroup (its processes are gone); a missing one is fine.</summary>
    Task RemoveAsync(string vmName, VmCgroup cgroup, CancellationToken cancellationToken);
}
