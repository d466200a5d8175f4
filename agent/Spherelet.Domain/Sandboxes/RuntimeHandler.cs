namespace Spherelet.Domain.Sandboxes;

/// <summary>A named VM profile: what a pod of this runtime handler gets at least, and how far its VM may grow while it runs.</summary>
/// <param name="MaxVirtualCpus">The most vCPUs a pod VM may be grown to (hot-plug); 0 or less than <paramref name="VirtualCpus"/>: no growth.</param>
/// <param name="MaxMemoryMiB">The most memory a pod VM may be grown to (its balloon); 0 or less than the initial size: no growth.</param>
/// <param name="BlockDeviceSlots">How many host block devices a pod VM can be given while it runs (hot-plug slots).</param>
/// <param name="HugepagesMaxMiB">How much 2 MiB-hugepage memory a pod VM can be given while it runs.</param>
/// <param name="Vmm">The VMM backend that runs the handler's pod VMs (<see cref="Vmm.VmmRegistry"/>).</param>
public sealed record RuntimeHandler(
    string Name, int VirtualCpus, int MemoryMiB, string KernelPath, string InitramfsPath, int MaxVirtualCpus = 0, int MaxMemoryMiB = 0, int BlockDeviceSlots = 2, int HugepagesMaxMiB = 0, string Vmm = RuntimeHandler.LibvirtVmm)
{
    /// <summary>The backend of sandboxes checkpointed before backends were chosen per handler.</summary>
    public const string LibvirtVmm = "libvirt";
}
