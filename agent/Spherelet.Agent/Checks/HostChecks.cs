using Spherelet.Agent.Options;
using Spherelet.Agent.Virtualization;
using Spherelet.Libvirt.Vmm;
using Spherelet.Domain.Health;

namespace Spherelet.Agent.Checks;

/// <summary>The list of host checks shared by the CRI Status call and <c>spherelet doctor</c>.</summary>
public static class HostChecks
{
    private const string GuestFix = "build and install the guest: scripts/setup";

    /// <summary>The util-linux tools the microvm jail runs QEMU through.</summary>
    private static readonly string[] JailTools = ["setpriv", "nsenter", "unshare"];

    /// <param name="beforeStart">For <c>spherelet doctor</c>, run before the daemon: what the daemon makes at start (the integration bridge) is not a problem yet.</param>
    public static IReadOnlyList<IHostCheck> Create(SphereletOptions options, LibvirtConnector libvirt, bool beforeStart = false)
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
            new OvsCheck(options, beforeStart: beforeStart),
            .. MicrovmChecks(options),
        ];
    }

    /// <summary>Where a runtime handler runs the microvm backend: its PVH kernel and the tools its jail is made with.</summary>
    private static IEnumerable<IHostCheck> MicrovmChecks(SphereletOptions options)
    {
        if (!options.RuntimeHandlers.Values.Any(h => h.Vmm == Microvm.MicrovmVmm.BackendName))
        {
            return [];
        }

        return
        [
            FileCheck.Artifact("guest-pvh-kernel", HealthArea.Runtime, options.Guest.PvhKernelPath, "GuestPvhKernelMissing", GuestFix),
            .. JailTools.Select(tool =>
                FileCheck.Executable(tool, HealthArea.Runtime, "/usr/bin/" + tool, "JailToolMissing", "install util-linux (the microvm jail runs QEMU through it)")),
        ];
    }
}
