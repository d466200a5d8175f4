namespace Spherelet.Agent.Options;

/// <summary>One runtime handler's VM profile: the least a pod of this handler gets.</summary>
public sealed class RuntimeHandlerOptions
{
    public int VirtualCpus { get; set; } = 1;

    /// <summary>The VM's memory before the pod's memory limit is added on top.</summary>
    public int MemoryMiB { get; set; } = 256;

    /// <summary>How many vCPUs a pod VM may be grown to while it runs (UpdateContainerResources); 0: the host's CPU count.</summary>
    public int MaxVirtualCpus { get; set; }

    /// <summary>
    /// How much memory a pod VM may be grown to while it runs (virtio-mem: plugged as containers
    /// need it, nothing up front); 0: the host's memory. No larger than what the VM starts with
    /// (<see cref="MemoryMiB"/>): no memory growth.
    /// </summary>
    public int MaxMemoryMiB { get; set; }

    /// <summary>
    /// How many host block devices (raw block volumes) a pod VM can be given while it runs: spare PCIe
    /// root ports they are hot-plugged into as virtio-blk. 0: none.
    /// </summary>
    public int BlockDeviceSlots { get; set; } = 2;

    /// <summary>
    /// How much memory backed by 2 MiB host hugepages a pod VM can be given for pods that ask for
    /// hugepages (plugged as they ask, never up front); only where the host has hugepages. 0: none.
    /// Off by default: the device for it costs every VM of the handler about 65 MiB of host memory
    /// and 0.5 s of boot under TCG, so pods that want hugepages get a RuntimeClass of their own.
    /// </summary>
    public int HugepagesMaxMiB { get; set; }

    /// <summary>
    /// The VMM backend that runs the handler's pod VMs: <c>microvm</c> (QEMU run directly as a
    /// confined microvm: the fastest start; the default) or <c>libvirt</c> (q35 domains, seen by
    /// virsh, growable while they run, with hot-plugged block devices and hugepages).
    /// </summary>
    public string Vmm { get; set; } = "microvm";

    /// <summary>Empty: Guest:KernelPath (libvirt) or Guest:PvhKernelPath (microvm).</summary>
    public string KernelPath { get; set; } = string.Empty;

    /// <summary>Empty: Guest:InitramfsPath.</summary>
    public string InitramfsPath { get; set; } = string.Empty;
}
