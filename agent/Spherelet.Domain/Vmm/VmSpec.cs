namespace Spherelet.Domain.Vmm;

/// <summary>Everything a VMM needs to boot one pod VM.</summary>
public sealed record VmSpec
{
    /// <summary>Short and deterministic (libvirt's socket paths have a length limit): <c>sph-</c> and 12 hex digits.</summary>
    public required string Name { get; init; }

    public required Guid Uuid { get; init; }

    public required VmOwner Owner { get; init; }

    public required int VirtualCpus { get; init; }

    public required int MemoryMiB { get; init; }

    /// <summary>How many vCPUs the VM can grow to while it runs (hot-plug); at least <see cref="VirtualCpus"/>.</summary>
    public int MaxVirtualCpus { get; init; }

    /// <summary>How much memory the VM can grow to while it runs (plugged as it grows); at least <see cref="MemoryMiB"/> for any growth.</summary>
    public int MaxMemoryMiB { get; init; }

    public required string KernelPath { get; init; }

    public required string InitramfsPath { get; init; }

    /// <summary>The full kernel command line (console, CRX settings).</summary>
    public required string KernelCommandLine { get; init; }

    /// <summary>The host directory shared into the VM over virtio-9p.</summary>
    public required string ShareDirectory { get; init; }

    /// <summary>The 9p mount tag CRX mounts (<c>spherelet.share=</c> on the command line).</summary>
    public required string ShareTag { get; init; }

    /// <summary>The Unix socket the VMM serves the CRX virtio-serial port on.</summary>
    public required string ChannelSocketPath { get; init; }

    /// <summary>The virtio-serial port name CRX opens.</summary>
    public required string ChannelName { get; init; }

    /// <summary>The VM's NIC on the pod network; null for none (the pod has its loopback only).</summary>
    public VmNic? Nic { get; init; }

    /// <summary>
    /// How much hugepage-backed memory (2 MiB host hugepages) the VM can be given while it runs, for
    /// pods that ask for hugepages (<see cref="IVmm.GrowHugepagesAsync"/>); 0: none. A VMM on a host
    /// without hugepages gives none.
    /// </summary>
    public int HugepagesMaxMiB { get; init; }

    /// <summary>Spare hot-plug slots for host block devices given while the VM runs (<see cref="IVmm.AttachDiskAsync"/>).</summary>
    public int BlockDeviceSlots { get; init; }

    /// <summary>Where the VM's processes run on the host (the kubelet's cgroup for the pod); null for the VMM's default place.</summary>
    public VmCgroup? Cgroup { get; init; }

    /// <summary>The host ids the VM's VMM and share are mapped to (what <see cref="IVmm.ReserveAsync"/> gave); null for none.</summary>
    public VmIdMap? IdMap { get; init; }

    /// <summary>Where the VM's serial console is written.</summary>
    public required string ConsoleLogPath { get; init; }
}
