namespace Spherelet.Domain.Node;

/// <summary>
/// Whether pod VMs can use KVM here. /dev/kvm alone is not enough: KVM must come with hardware
/// virtualization (the kvm_intel or kvm_amd module). Software-only KVM flavours (such as PVM's
/// kvm_pvm) run only guests built for them; the Spherelet guest is not, so such hosts use TCG.
/// </summary>
public static class HostVirtualization
{
    public const string KvmDevice = "/dev/kvm";

    public static bool KvmUsable => KvmUsableWith(KvmDevice, "/sys/module");

    /// <summary>The rule, with the device and the module directory given (for tests).</summary>
    public static bool KvmUsableWith(string device, string modulesDirectory) =>
        File.Exists(device)
        && (Directory.Exists(Path.Combine(modulesDirectory, "kvm_intel")) || Directory.Exists(Path.Combine(modulesDirectory, "kvm_amd")));

    /// <summary>What a host without usable KVM has instead: why pod VMs run under TCG.</summary>
    public static string TcgReason(string device, string modulesDirectory) =>
        !File.Exists(device)
            ? $"no {device}"
            : $"{device} exists but neither kvm_intel nor kvm_amd is loaded (software-only KVM cannot run the Spherelet guest)";
}
