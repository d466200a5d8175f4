using System.Globalization;
using Spherelet.Domain.Vmm;

namespace Spherelet.Microvm;

/// <summary>
/// QEMU's arguments for a pod VM on the <c>microvm</c> machine: a PVH kernel booted straight (no
/// firmware tables to walk, no PCI), virtio-mmio devices for the CRX channel (virtio-serial), the pod
/// share (9p), the NIC (a tap handed over as a descriptor), entropy and a balloon that gets back
/// the pages the guest frees; QMP for control; paused until the agent lets it run; confined by
/// QEMU's own seccomp sandbox on top of the jail. A pure function of the spec, tested with golden lines.
/// </summary>
internal static class QemuCommandLine
{
    /// <param name="fds">The descriptors QEMU inherits: its tap (ignored when the spec has no NIC) and its listening sockets.</param>
    public static IReadOnlyList<string> Build(VmSpec spec, MicrovmSettings settings, JailDescriptors fds)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(settings);
        var kvm = settings.Accelerator == "kvm";
        var args = new List<string>
        {
            "-name", $"{spec.Name},debug-threads=on",
            "-uuid", spec.Uuid.ToString("D", CultureInfo.InvariantCulture),
            // No legacy PIC/PIT or option ROMs: the PVH kernel needs none. ACPI stays on for power-off and device discovery.
            "-machine", $"microvm,accel={settings.Accelerator},pic=off,pit=off,isa-serial=on,rtc=on,x-option-roms=off",
            "-cpu", kvm ? "host" : "max",
            "-smp", spec.VirtualCpus.ToString(CultureInfo.InvariantCulture),
            "-m", spec.MemoryMiB.ToString(CultureInfo.InvariantCulture),
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            // Paused: the agent places it in its cgroup and secures its port first, then lets it run (QMP cont).
            "-S",
            "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
            "-kernel", JailPaths.Kernel,
            "-initrd", JailPaths.Initramfs,
            "-append", KernelCommandLine(spec, settings),
            "-chardev", $"socket,id=console,fd={Number(fds.Console)},server=on,wait=off",
            "-serial", "chardev:console",
            "-chardev", $"socket,id=qmp,fd={Number(fds.Qmp)},server=on,wait=off",
            "-mon", "chardev=qmp,mode=control",
            "-chardev", $"socket,id=crx,fd={Number(fds.Channel)},server=on,wait=off",
            "-device", "virtio-serial-device,max_ports=2",
            "-device", $"virtserialport,chardev=crx,name={spec.ChannelName}",
            // QEMU holds no capability: ownership changes it cannot make are left as they are
            // (the guest's chown of a file in a volume keeps its owner).
            "-fsdev", $"local,id=share,path={JailPaths.Share},security_model=none,multidevs=remap",
            "-device", $"virtio-9p-device,fsdev=share,mount_tag={spec.ShareTag}",
            "-object", "rng-random,id=rng,filename=/dev/urandom",
            "-device", "virtio-rng-device,rng=rng",
            "-device", "virtio-balloon-device,free-page-reporting=on",
        };
        if (spec.Nic is { } nic)
        {
            args.Add("-netdev");
            args.Add($"tap,id=net0,fd={Number(fds.Tap)},vhost=off");
            args.Add("-device");
            args.Add($"virtio-net-device,netdev=net0,mac={nic.Mac},host_mtu={nic.Mtu.ToString(CultureInfo.InvariantCulture)}"
                + (nic.ChecksumOffload ? string.Empty : ",csum=off,gso=off,host_tso4=off,host_tso6=off,host_ecn=off,host_ufo=off"));
        }

        return args;
    }

    private static string Number(int fd) => fd.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The spec's command line plus what a microvm guest needs: under TCG the TSC's frequency (no
    /// PIT or HPET to calibrate it against; without it the kernel may hang or lose the TSC).
    /// </summary>
    public static string KernelCommandLine(VmSpec spec, MicrovmSettings settings)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(settings);
        return settings.Accelerator != "kvm" && settings.TscKhz > 0
            ? $"{spec.KernelCommandLine} tsc_early_khz={settings.TscKhz.ToString(CultureInfo.InvariantCulture)}"
            : spec.KernelCommandLine;
    }
}
