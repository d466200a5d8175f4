namespace Spherelet.Agent.Options;

/// <summary>
/// Every setting of the agent, with a working default for each. Bound at start from,
/// in rising precedence: these defaults, the JSON file (<c>--config</c>, default
/// <c>/etc/spherelet/spherelet.json</c>), <c>SPHERELET__*</c> environment variables
/// (<c>SPHERELET__GUEST__KERNELPATH</c> sets <c>Guest:KernelPath</c>) and the command line.
/// </summary>
public sealed class SphereletOptions
{
    public const string DefaultConfigPath = "/etc/spherelet/spherelet.json";

    /// <summary>The CRI gRPC Unix socket.</summary>
    public string Socket { get; set; } = "/run/spherelet/spherelet.sock";

    /// <summary>Persistent state: checkpoints, node settings.</summary>
    public string Root { get; set; } = "/var/lib/spherelet";

    /// <summary>Volatile state: sockets and files that do not survive a reboot.</summary>
    public string State { get; set; } = "/run/spherelet";

    /// <summary>Trace, Debug, Information, Warning, Error, Critical or None.</summary>
    public string LogLevel { get; set; } = "Information";

    /// <summary>auto (systemd when systemd is the init system, else cgroupfs), systemd or cgroupfs.</summary>
    public string CgroupDriver { get; set; } = "auto";

    /// <summary>The libvirt connection URI.</summary>
    public string LibvirtUri { get; set; } = "qemu:///system";

    /// <summary>The QEMU system emulator that libvirt runs for pod VMs.</summary>
    public string QemuPath { get; set; } = "/usr/bin/qemu-system-x86_64";

    public GuestOptions Guest { get; set; } = new();

    /// <summary>The runtime handler pods get when their RuntimeClass names none.</summary>
    public string DefaultRuntimeHandler { get; set; } = "default";

    /// <summary>
    /// Named VM profiles (Kubernetes RuntimeClass handlers). Always there: "default" (the microvm
    /// backend: the fastest start, confined) and "libvirt" (q35 domains that virsh sees, that grow
    /// while they run and take hot-plugged block devices); more can be added.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "bound from configuration")]
    public Dictionary<string, RuntimeHandlerOptions> RuntimeHandlers { get; set; } = new(StringComparer.Ordinal)
    {
        ["default"] = new(),
        [LibvirtHandlerName] = new() { Vmm = "libvirt" },
    };

    /// <summary>The runtime handler that is always there for pods that want the libvirt backend.</summary>
    public const string LibvirtHandlerName = "libvirt";

    public MicrovmOptions Microvm { get; set; } = new();

    public MetricsOptions Metrics { get; set; } = new();

    public ImagesOptions Images { get; set; } = new();

    public OvsOptions Ovs { get; set; } = new();

    public NetworkOptions Network { get; set; } = new();

    public StreamingOptions Streaming { get; set; } = new();
}
