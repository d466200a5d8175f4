using Spherelet.Domain.Vmm;
using Spherelet.Microvm;

namespace Spherelet.Tests.Microvm;

public sealed class QemuCommandLineTests
{
    private static readonly MicrovmSettings Tcg = new() { QemuPath = "/usr/bin/qemu-system-x86_64", StateDirectory = "/run/spherelet/microvm", AgentInstance = "0123456789abcdef", Accelerator = "tcg", TscKhz = 2419200 };

    private static VmSpec Spec(VmNic? nic = null) => new()
    {
        Name = "sph-0123456789ab",
        Uuid = Guid.Parse("11111111-2222-3333-4444-555555555555"),
        Owner = new VmOwner(new string('a', 64), "team-a", "web", "uid-web", 0),
        VirtualCpus = 2,
        MemoryMiB = 384,
        KernelPath = "/guest/vmlinux",
        InitramfsPath = "/guest/initramfs.img",
        KernelCommandLine = "console=ttyS0 spherelet.share=pod",
        ShareDirectory = "/var/lib/spherelet/pods/a/share",
        ShareTag = "pod",
        ChannelSocketPath = "/run/spherelet/vm/sph-0123456789ab/crx.sock",
        ChannelName = "io.spherelet.crx.0",
        ConsoleLogPath = "/var/lib/spherelet/pods/a/console.log",
        Nic = nic,
    };

    private static readonly JailDescriptors Fds = new(Tap: 7, Qmp: 4, Channel: 5, Console: 6);

    private static string Value(IReadOnlyList<string> args, string option, int occurrence = 0) =>
        args.Select((a, i) => (a, i)).Where(p => p.a == option).Select(p => args[p.i + 1]).ElementAt(occurrence);

    [Fact]
    public void A_pod_vm_is_a_paused_microvm_of_its_size_booting_the_pvh_kernel_from_the_jail_under_the_seccomp_sandbox()
    {
        var args = QemuCommandLine.Build(Spec(), Tcg, Fds);

        Assert.StartsWith("microvm,accel=tcg,", Value(args, "-machine"), StringComparison.Ordinal);
        Assert.Equal("max", Value(args, "-cpu"));
        Assert.Equal("2", Value(args, "-smp"));
        Assert.Equal("384", Value(args, "-m"));
        Assert.Contains("-S", args);
        Assert.Contains("-nodefaults", args);
        Assert.Equal("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny", Value(args, "-sandbox"));
        // Paths inside the jail, never the host's.
        Assert.Equal("/vm/kernel", Value(args, "-kernel"));
        Assert.Equal("/vm/initramfs", Value(args, "-initrd"));
        Assert.DoesNotContain(args, a => a.Contains("/var/lib/spherelet", StringComparison.Ordinal) || a.Contains("/run/spherelet", StringComparison.Ordinal));
    }

    [Fact]
    public void Qmp_the_channel_and_the_console_are_served_on_inherited_descriptors_and_the_share_is_9p_over_mmio()
    {
        var args = QemuCommandLine.Build(Spec(), Tcg, Fds);

        Assert.Contains("socket,id=qmp,fd=4,server=on,wait=off", args);
        Assert.Equal("chardev=qmp,mode=control", Value(args, "-mon"));
        Assert.Contains("socket,id=crx,fd=5,server=on,wait=off", args);
        Assert.Contains("virtserialport,chardev=crx,name=io.spherelet.crx.0", args);
        Assert.Contains("socket,id=console,fd=6,server=on,wait=off", args);
        Assert.Equal("chardev:console", Value(args, "-serial"));
        Assert.Equal("local,id=share,path=/pod,security_model=none,multidevs=remap", Value(args, "-fsdev"));
        Assert.Contains("virtio-9p-device,fsdev=share,mount_tag=pod", args);
        Assert.Contains("virtio-balloon-device,free-page-reporting=on", args);
        Assert.DoesNotContain(args, a => a.Contains("-pci", StringComparison.Ordinal));
        Assert.DoesNotContain("-netdev", args);
    }

    [Fact]
    public void The_nic_is_the_inherited_tap_with_the_pods_mac_and_mtu_and_no_offloads_on_a_userspace_datapath()
    {
        var offloading = QemuCommandLine.Build(Spec(new VmNic("br", "sphp0123456789a", "02:53:50:00:00:07", 100, Guid.Empty, 1450)), Tcg, Fds);
        var plain = QemuCommandLine.Build(Spec(new VmNic("br", "sphp0123456789a", "02:53:50:00:00:07", 100, Guid.Empty, 1450, ChecksumOffload: false)), Tcg, Fds);

        Assert.Equal("tap,id=net0,fd=7,vhost=off", Value(offloading, "-netdev"));
        Assert.Contains("virtio-net-device,netdev=net0,mac=02:53:50:00:00:07,host_mtu=1450", offloading);
        Assert.Contains(plain, a => a.StartsWith("virtio-net-device,", StringComparison.Ordinal) && a.Contains(",csum=off,gso=off,host_tso4=off", StringComparison.Ordinal));
    }

    [Fact]
    public void Under_tcg_the_guest_is_told_the_tsc_frequency_and_under_kvm_it_runs_on_the_host_cpu_without()
    {
        var tcg = QemuCommandLine.Build(Spec(), Tcg, Fds);
        var kvm = QemuCommandLine.Build(Spec(), Tcg with { Accelerator = "kvm" }, Fds);

        Assert.Equal("console=ttyS0 spherelet.share=pod tsc_early_khz=2419200", Value(tcg, "-append"));
        Assert.Equal("console=ttyS0 spherelet.share=pod", Value(kvm, "-append"));
        Assert.Equal("host", Value(kvm, "-cpu"));
        Assert.StartsWith("microvm,accel=kvm,", Value(kvm, "-machine"), StringComparison.Ordinal);
    }
}
