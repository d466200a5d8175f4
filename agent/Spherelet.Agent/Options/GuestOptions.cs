namespace Spherelet.Agent.Options;

/// <summary>The pod VM's guest artifacts, as <c>scripts/setup</c> installs them.</summary>
public sealed class GuestOptions
{
    /// <summary>The guest kernel booted directly by QEMU.</summary>
    public string KernelPath { get; set; } = "/usr/local/lib/spherelet/guest/vmlinuz";

    /// <summary>The initramfs holding the CRX init and crun.</summary>
    public string InitramfsPath { get; set; } = "/usr/local/lib/spherelet/guest/initramfs.img";

    /// <summary>The crun binary that the guest build copies into the initramfs.</summary>
    public string CrunPath { get; set; } = "/usr/bin/crun";
}
