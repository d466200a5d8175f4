using Spherelet.Agent.Options;
using Spherelet.Agent.Virtualization;
using Spherelet.Libvirt.Vmm;
using Spherelet.Domain.Health;

namespace Spherelet.Agent.Checks;

/// <summary>The list of host checks shared by the CRI Status call and <c>spherelet doctor</c>.</summary>
public static class HostChecks
{
    private const string GuestFix = "build and install the guest: scripts/setup";

    public static IReadOnlyList<IHostCheck> Create(SphereletOptions options, LibvirtConnector libvirt)
    {
        ArgumentNullException.ThrowIfNull(options);
        return
        [
            new KvmCheck(),
            new LibvirtCheck(libvirt),
            QemuConfCheck.CgroupsLeftToSpherelet(),
            QemuConfCheck.ConsoleThroughVirtlogd(),
            FileCheck.Executable("qemu", HealthArea.Runtime, options.QemuPath, "QemuMissing", "install QEMU: apt-get install qemu-system-x86"),
            FileCheck.Artifact("guest-kernel", HealthArea.Runtime, options.Guest.KernelPath, "GuestKernelMissing", GuestFix),
            FileCheck.Artifact("guest-initramfs", HealthArea.Runtime, options.Guest.InitramfsPath, "GuestInitramfsMissing", GuestFix),
            FileCheck.Executable("crun", HealthArea.Host, options.Guest.CrunPath, "CrunMissing", "install crun (the guest build packs it): apt-get install crun"),
            new DirectoryCheck("root-dir", options.Root),
            new DirectoryCheck("state-dir", options.State),
            new DirectoryCheck("socket-dir", Path.GetDirectoryName(options.Socket) ?? "/"),
            new OvsCheck(options),
        ];
    }
}
