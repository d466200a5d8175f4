using System.Net.Sockets;
using Spherelet.Agent.Checks;
using Spherelet.Agent.Cli;
using Spherelet.Agent.Hosting;
using Spherelet.Agent.Options;
using Spherelet.Domain.Health;
using Spherelet.Libvirt;

namespace Spherelet.Tests.Agent;

public sealed class HostCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spherelet-checks-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Guest_artifact_check_fails_for_missing_and_empty_files_and_passes_otherwise()
    {
        var path = Path.Combine(_dir, "vmlinuz");
        var check = FileCheck.Artifact("guest-kernel", HealthArea.Runtime, path, "GuestKernelMissing", "build it");
        Assert.Equal("GuestKernelMissing", (await check.RunAsync(CancellationToken.None)).Reason);

        await File.WriteAllBytesAsync(path, []);
        Assert.Contains("is empty", (await check.RunAsync(CancellationToken.None)).Detail, StringComparison.Ordinal);

        await File.WriteAllBytesAsync(path, new byte[4096]);
        Assert.Equal(CheckOutcome.Ok, (await check.RunAsync(CancellationToken.None)).Outcome);
    }

    [Theory]
    [InlineData("#cgroup_controllers = [ \"cpu\", \"memory\" ]\ncgroup_controllers = [ ]\n", CheckOutcome.Ok)]
    [InlineData("#cgroup_controllers = [ \"cpu\", \"memory\" ]\n", CheckOutcome.Warning)]
    [InlineData("cgroup_controllers = [ \"cpu\" ]\n", CheckOutcome.Warning)]
    public async Task Libvirt_cgroups_check_wants_libvirt_to_leave_cgroups_alone(string qemuConf, CheckOutcome outcome)
    {
        var file = Path.Combine(_dir, "qemu.conf");
        await File.WriteAllTextAsync(file, qemuConf);

        var result = await QemuConfCheck.CgroupsLeftToSpherelet(file).RunAsync(CancellationToken.None);

        Assert.Equal(outcome, result.Outcome);
    }

    [Theory]
    [InlineData("#stdio_handler = \"logd\"\n", CheckOutcome.Ok)]
    [InlineData("stdio_handler = \"logd\"\n", CheckOutcome.Ok)]
    [InlineData("stdio_handler = \"file\"\n", CheckOutcome.Warning)]
    public async Task Console_log_check_wants_virtlogd_to_rotate_pod_consoles(string qemuConf, CheckOutcome outcome)
    {
        var file = Path.Combine(_dir, "qemu.conf");
        await File.WriteAllTextAsync(file, qemuConf);

        var result = await QemuConfCheck.ConsoleThroughVirtlogd(file).RunAsync(CancellationToken.None);

        Assert.Equal(outcome, result.Outcome);
    }

    [Fact]
    public async Task Executable_check_refuses_a_file_without_execute_bits()
    {
        var path = Path.Combine(_dir, "qemu");
        await File.WriteAllTextAsync(path, "#!/bin/sh\n");
        var check = FileCheck.Executable("qemu", HealthArea.Runtime, path, "QemuMissing", "install it");
        Assert.Contains("not executable", (await check.RunAsync(CancellationToken.None)).Detail, StringComparison.Ordinal);

        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        Assert.Equal(CheckOutcome.Ok, (await check.RunAsync(CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task Ovs_check_fails_with_a_fix_when_ovsdb_does_not_answer()
    {
        var options = new SphereletOptions { Ovs = new OvsOptions { DbSocket = Path.Combine(_dir, "db.sock"), RunDirectory = _dir } };

        var result = await new OvsCheck(options).RunAsync(CancellationToken.None);

        Assert.Equal("OvsdbUnreachable", result.Reason);
        Assert.Contains("openvswitch", result.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void Libvirt_versions_decode_as_libvirt_encodes_them()
    {
        Assert.Equal("9.0.0", new LibvirtVersion(9_000_000).ToString());
        Assert.Equal("7.2.22", new LibvirtVersion(7_002_022).ToString());
    }

    [Fact]
    public void Doctor_prints_one_line_per_check_and_the_fix_under_each_problem()
    {
        var report = new HostHealthReport(
        [
            HostCheckResult.Warn("kvm", HealthArea.Host, "no /dev/kvm", "enable KVM"),
            HostCheckResult.Ok("libvirt", HealthArea.Runtime, "libvirtd 9.0.0"),
            HostCheckResult.Fail("ovs", HealthArea.Network, "OvsdbUnreachable", "no answer", "start OVS"),
        ], DateTimeOffset.UnixEpoch);

        var lines = DoctorCommand.Format(report).Split('\n');

        Assert.Equal(
        [
            "warn  kvm      no /dev/kvm",
            "               fix: enable KVM",
            "ok    libvirt  libvirtd 9.0.0",
            "FAIL  ovs      no answer",
            "               fix: start OVS",
            "host NOT ready: 1 ok, 1 warning(s), 1 failed",
        ], lines.Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public void Stale_socket_is_removed_but_a_live_one_or_a_plain_file_is_refused()
    {
        var path = Path.Combine(_dir, "cri.sock");
        using (var stale = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            stale.Bind(new UnixDomainSocketEndPoint(path));
        }

        UnixSocketPath.Prepare(path);
        Assert.False(File.Exists(path));

        using (var live = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            live.Bind(new UnixDomainSocketEndPoint(path));
            live.Listen();
            Assert.Contains("in use", Assert.Throws<IOException>(() => UnixSocketPath.Prepare(path)).Message, StringComparison.Ordinal);
        }

        File.Delete(path);
        File.WriteAllText(path, "not a socket");
        Assert.Contains("not a socket", Assert.Throws<IOException>(() => UnixSocketPath.Prepare(path)).Message, StringComparison.Ordinal);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void Socket_parent_directory_is_created()
    {
        var path = Path.Combine(_dir, "a", "b", "cri.sock");
        UnixSocketPath.Prepare(path);
        Assert.True(Directory.Exists(Path.Combine(_dir, "a", "b")));
    }
}
