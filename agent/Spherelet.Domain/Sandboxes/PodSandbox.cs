using Spherelet.Domain.Vmm;

namespace Spherelet.Domain.Sandboxes;

/// <summary>One pod sandbox: what the kubelet asked for, its VM, and its state. Immutable; the store swaps whole values.</summary>
public sealed record PodSandbox
{
    /// <summary>64 hex digits.</summary>
    public required string Id { get; init; }

    public required PodSandboxMetadata Metadata { get; init; }

    public required IReadOnlyDictionary<string, string> Labels { get; init; }

    public required IReadOnlyDictionary<string, string> Annotations { get; init; }

    /// <summary>The runtime handler resolved (never empty: the default handler's name when the request had none).</summary>
    public required string RuntimeHandler { get; init; }

    /// <summary>Unix nanoseconds.</summary>
    public required long CreatedAt { get; init; }

    public required SandboxState State { get; init; }

    /// <summary>Why the sandbox is NOTREADY ("stopped", "vm stopped: destroyed", ...); empty when READY.</summary>
    public string StateReason { get; init; } = string.Empty;

    public required string VmName { get; init; }

    /// <summary>The VMM backend that runs the VM (its handler's when it started; libvirt for sandboxes checkpointed before backends were chosen).</summary>
    public string Vmm { get; init; } = Sandboxes.RuntimeHandler.LibvirtVmm;

    /// <summary>The host ids the VM's VMM and the pod share are mapped to; null where the VMM maps none.</summary>
    public VmIdMap? IdMap { get; init; }

    /// <summary>Where the agent reaches the VM's CRX, as its backend gave it at start; null in checkpoints of older agents.</summary>
    public GuestEndpoint? GuestEndpoint { get; init; }

    public required Guid VmUuid { get; init; }

    public required int VirtualCpus { get; init; }

    public required int MemoryMiB { get; init; }

    /// <summary>How many vCPUs the VM can be grown to while it runs (0: as many as it has).</summary>
    public int MaxVirtualCpus { get; init; }

    /// <summary>How much memory the VM can be grown to while it runs (0: as much as it has).</summary>
    public int MaxMemoryMiB { get; init; }

    /// <summary>Where the VM's processes run on the host (the kubelet's cgroup for the pod); null for the VMM's default place.</summary>
    public VmCgroup? Cgroup { get; init; }

    /// <summary>Memory backed by 2 MiB host hugepages the VM has been given (it never shrinks).</summary>
    public int HugepagesMiB { get; init; }

    /// <summary>How many host block devices the VM can hold (its hot-plug slots).</summary>
    public int BlockDeviceSlots { get; init; }

    /// <summary>Host block devices the VM holds now.</summary>
    public IReadOnlyList<PodDisk> Disks { get; init; } = [];

    public required string Hostname { get; init; }

    public required DnsSettings Dns { get; init; }

    /// <summary>The kubelet's log directory for the pod's containers (may be empty).</summary>
    public required string LogDirectory { get; init; }

    /// <summary>The pod's place on the pod network; null when it has none (no pod CIDR when it started).</summary>
    public PodNetworkAttachment? Network { get; init; }

    /// <summary>What CRX reported at the handshake.</summary>
    public required GuestInfo Guest { get; init; }
}
