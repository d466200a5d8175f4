using Spherelet.Crx.Protocol;

namespace Spherelet.Tests.Shared;

/// <summary>
/// The QEMU command line of a pod VM for the tests and the benchmarks (one source file,
/// linked into both): q35, KVM where it is usable else TCG, direct boot of the guest,
/// the CRX channel on a virtio-serial port backed by a Unix socket, the pod share over 9p,
/// and virtio-rng (crun blocks on an unseeded CRNG without it).
/// </summary>
internal static class GuestQemuCommand
{
    /// <param name="directory">Holds the pod share (<c>pod/</c>) and the channel socket (<c>crx.sock</c>).</param>
    /// <param name="serial">QEMU's -serial value: <c>stdio</c>, or <c>file:PATH</c>.</param>
    /// <param name="extraKernelArguments">Appended to the kernel command line.</param>
    /// <param name="extraArguments">More QEMU arguments (devices).</param>
    public static List<string> Arguments(
        string kernel, string initramfs, string directory, string serial, string extraKernelArguments, params string[] extraArguments)
    {
        var accel = Spherelet.Domain.Node.HostVirtualization.KvmUsable ? "kvm" : "tcg";
        var share = Path.Combine(directory, "pod");
        Directory.CreateDirectory(share);
        List<string> args =
        [
            "-machine", $"q35,accel={accel}", "-cpu", accel == "kvm" ? "host" : "max", "-smp", "1", "-m", "512",
            "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
            "-kernel", kernel, "-initrd", initramfs,
            "-append", $"console=ttyS0 panic=-1 quiet random.trust_cpu=on spherelet.share=pod {extraKernelArguments}".TrimEnd(),
            "-serial", serial,
            "-device", "virtio-serial-pci,id=serial0",
            "-chardev", $"socket,id=crx,path={Path.Combine(directory, "crx.sock")},server=on,wait=off",
            "-device", $"virtserialport,bus=serial0.0,chardev=crx,name={CrxProtocol.DefaultChannelName}",
            "-fsdev", $"local,id=pod,path={share},security_model=none",
            "-device", "virtio-9p-pci,fsdev=pod,mount_tag=pod",
            "-object", "rng-random,id=rng0,filename=/dev/urandom",
            "-device", "virtio-rng-pci,rng=rng0",
        ];
        args.AddRange(extraArguments);
        return args;
    }

    /// <summary>
    /// The same guest on QEMU's microvm machine: the PVH kernel booted straight, virtio-mmio devices,
    /// as the microvm backend runs it (without its jail): the baseline of that backend.
    /// </summary>
    public static List<string> MicrovmArguments(string pvhKernel, string initramfs, string directory)
    {
        var accel = Spherelet.Domain.Node.HostVirtualization.KvmUsable ? "kvm" : "tcg";
        var share = Path.Combine(directory, "pod");
        Directory.CreateDirectory(share);
        var tsc = accel == "tcg" && Spherelet.Domain.Node.HostTsc.Khz() is > 0 and var khz ? $" tsc_early_khz={khz}" : string.Empty;
        return
        [
            "-machine", $"microvm,accel={accel},pic=off,pit=off,isa-serial=on,rtc=on,x-option-roms=off", "-cpu", accel == "kvm" ? "host" : "max", "-smp", "1", "-m", "256",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-kernel", pvhKernel, "-initrd", initramfs,
            "-append", $"console=ttyS0 panic=-1 quiet random.trust_cpu=on spherelet.share=pod{tsc}",
            "-serial", "null",
            "-device", "virtio-serial-device,max_ports=2",
            "-chardev", $"socket,id=crx,path={Path.Combine(directory, "crx.sock")},server=on,wait=off",
            "-device", $"virtserialport,chardev=crx,name={CrxProtocol.DefaultChannelName}",
            "-fsdev", $"local,id=pod,path={share},security_model=none",
            "-device", "virtio-9p-device,fsdev=pod,mount_tag=pod",
            "-object", "rng-random,id=rng0,filename=/dev/urandom",
            "-device", "virtio-rng-device,rng=rng0",
        ];
    }
}
