namespace Spherelet.Agent.Options;

/// <summary>The pod VM's guest artifacts, as <c>scripts/setup</c> installs them.</summary>
public sealed class GuestOptions
{
    /// <summary>The guest kernel libvirt's q35 pod VMs boot directly (a bzImage).</summary>
    public string KernelPath { get; set; } = "/usr/local/lib/spherelet/guest/vmlinuz";

    /// <summary>The same kernel as an uncompressed ELF with a PVH entry, booted by the microvm backend's pod VMs.</summary>
    public string PvhKernelPath { get; set; } = "/usr/local/lib/spherelet/guest/vmlinux";

    /// <summary>The initramfs holding the CRX init and crun.</summary>
    public string InitramfsPath { get; set; } = "/usr/local/lib/spherelet/guest/initramfs.img";

    /// <summary>The crun binary that the guest build copies into the initramfs.</summary>
    public string CrunPath { get; set; } = "/usr/bin/crun";

    /// <summary>How long the agent waits for a pod's CRX to answer after the VM starts.</summary>
    public double ConnectTimeoutSeconds { get; set; } = 60;

    /// <summary>How often the agent pings each pod's CRX.</summary>
    public double KeepaliveIntervalSeconds { get; set; } = 10;

    /// <summary>A CRX that leaves a ping unanswered this long is treated as gone.</summary>
    public double KeepaliveTimeoutSeconds { get; set; } = 10;

    /// <summary>How long any call to a pod's CRX may wait for its answer (waiting for a process to exit aside).</summary>
    public double CallTimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// How much of each container's output CRX keeps in the pod VM until the agent has written it to
    /// the CRI log file (while the agent is restarted, say); when it is full the oldest output goes
    /// and one log line says how much. Counts against the VM's memory.
    /// </summary>
    public int LogSpoolMiB { get; set; } = 16;
}
