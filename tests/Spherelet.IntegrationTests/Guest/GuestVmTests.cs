using Google.Protobuf;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.IntegrationTests.Guest;

/// <summary>
/// Containers run by CRX with crun inside a real pod VM. Needs qemu-system-x86_64 and the
/// built guest (scripts/setup); one VM for the class.
/// </summary>
public sealed class GuestVmTests : IClassFixture<BootedGuest>
{
    private readonly BootedGuest _guest;

    public GuestVmTests(BootedGuest guest)
    {
        _guest = guest;
    }

    private CrxClient Crx => _guest.Crx;

    [Fact]
    public void Guest_boots_our_kernel_and_answers_hello_over_virtio_serial()
    {
        Assert.StartsWith("6.1.", Crx.Peer.KernelRelease, StringComparison.Ordinal);
        Assert.True(Crx.Peer.BootToReadyMs > 0);
        Assert.Equal(CrxProtocol.Version, Crx.Peer.ProtocolVersion);
    }

    [Fact]
    public async Task Echo_in_a_busybox_container_returns_its_output_exit_code_and_cri_log()
    {
        var process = await CreateAsync("echo1", true, "/bin/sh", "-c", "echo hello from crx");
        await Crx.StartContainerAsync("echo1");

        var (stdout, stderr, exit) = await process.CollectAsync(GuestCalls.Timeout());

        Assert.Equal("hello from crx\n", stdout);
        Assert.Equal(string.Empty, stderr);
        Assert.Equal(0, exit.ExitCode);
        var log = await GuestLogLines.ReadAsync(Crx, "echo1", TimeSpan.FromSeconds(60));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F hello from crx$", Assert.Single(log));
        await Crx.RemoveContainerAsync("echo1");
    }

    [Fact]
    public async Task Failing_command_reports_its_exit_code_and_stderr()
    {
        var process = await CreateAsync("fail1", false, "/bin/sh", "-c", "echo broken >&2; exit 3");
        await Crx.StartContainerAsync("fail1");

        var (_, stderr, exit) = await process.CollectAsync(GuestCalls.Timeout());
        var waited = await Crx.CallAsync(new Request { Wait = new WaitProcess { ContainerId = "fail1" } }, GuestCalls.Timeout());

        Assert.Equal("broken\n", stderr);
        Assert.Equal(3, exit.ExitCode);
        Assert.Equal(3, waited.Exit.ExitCode);
        await Crx.RemoveContainerAsync("fail1");
    }

    [Fact]
    public async Task Exec_with_stdin_runs_in_the_container_and_a_signal_stops_the_main_process()
    {
        await Crx.CallAsync(new Request
        {
            CreateContainer = new CreateContainer
            {
                ContainerId = "svc1",
                Bundle = "/run/bundles/svc1",
                OciSpec = ByteString.CopyFrom(OciSpecs.Container("svc1", "/bin/sh", "-c", "trap 'exit 7' TERM; while true; do sleep 0.1; done")),
            },
        }, GuestCalls.Timeout());
        await Crx.StartContainerAsync("svc1");

        var exec = await Crx.ExecAsync(new ExecProcess
        {
            ContainerId = "svc1",
            ExecId = "cat1",
            OciProcess = ByteString.CopyFrom(OciSpecs.ExecProcess("/bin/sh", "-c", "hostname; cat")),
            Stdio = new Stdio { Stdin = true },
        }, GuestCalls.Timeout());
        await exec.WriteStdinAsync("piped through cat\n"u8.ToArray(), GuestCalls.Timeout());
        await exec.CloseStdinAsync(GuestCalls.Timeout());
        var (stdout, _, execExit) = await exec.CollectAsync(GuestCalls.Timeout());

        Assert.Equal("svc1\npiped through cat\n", stdout);
        Assert.Equal(0, execExit.ExitCode);

        await Crx.CallAsync(new Request { Signal = new SignalProcess { ContainerId = "svc1", Signal = 15 } }, GuestCalls.Timeout());
        var exit = await Crx.CallAsync(new Request { Wait = new WaitProcess { ContainerId = "svc1" } }, GuestCalls.Timeout());
        Assert.Equal(7, exit.Exit.ExitCode);
        await Crx.RemoveContainerAsync("svc1");
    }

    [Fact]
    public async Task Killed_process_reports_the_signal()
    {
        var process = await CreateAsync("kill1", false, "/bin/sleep", "600");
        await Crx.StartContainerAsync("kill1");

        await Crx.CallAsync(new Request { Signal = new SignalProcess { ContainerId = "kill1", Signal = 9 } }, GuestCalls.Timeout());
        var exit = await process.Exited.WaitAsync(GuestCalls.Timeout());

        Assert.Equal(9, exit.Signal);
        Assert.Equal(137, exit.ExitCode);
        Assert.False(exit.OomKilled);
        await Crx.RemoveContainerAsync("kill1");
    }

    [Fact]
    public async Task Stats_report_the_vm_and_each_container()
    {
        await Crx.CallAsync(new Request
        {
            CreateContainer = new CreateContainer
            {
                ContainerId = "busy1",
                Bundle = "/run/bundles/busy1",
                OciSpec = ByteString.CopyFrom(OciSpecs.Container("busy1", "/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 600")),
            },
        }, GuestCalls.Timeout());
        await Crx.StartContainerAsync("busy1");
        await Task.Delay(1500);

        var stats = (await Crx.CallAsync(new Request { Stats = new GetStats { ContainerIds = { "busy1" } } }, GuestCalls.Timeout())).Stats;

        Assert.True(stats.VmMemoryTotalBytes > 256UL * 1024 * 1024);
        Assert.True(stats.Vm.CpuUsageNs > 0);
        var container = Assert.Single(stats.Containers);
        Assert.Equal("busy1", container.ContainerId);
        Assert.True(container.Stats.CpuUsageNs > 0, "container CPU");
        Assert.True(container.Stats.MemoryUsageBytes > 0, "container memory");
        Assert.True(container.Stats.Pids >= 1, "container pids");
        await Crx.RemoveContainerAsync("busy1");
    }

    [Fact]
    public async Task Creating_a_container_twice_is_already_exists_and_a_bad_spec_leaves_nothing()
    {
        await CreateAsync("dup1", false, "/bin/true");
        var duplicate = await Assert.ThrowsAsync<CrxCallException>(() => CreateAsync("dup1", false, "/bin/true"));
        var bad = await Assert.ThrowsAsync<CrxCallException>(() => Crx.CallAsync(new Request
        {
            CreateContainer = new CreateContainer
            {
                ContainerId = "bad1",
                Bundle = "/run/bundles/bad1",
                // A root file system that does not exist: crun refuses it.
                OciSpec = ByteString.CopyFromUtf8("""{"ociVersion":"1.0.2","root":{"path":"/no/such/root"},"process":{"args":["/x"],"cwd":"/"}}"""),
            },
        }, GuestCalls.Timeout()));

        Assert.Equal(CrxProtocol.Codes.AlreadyExists, duplicate.Code);
        Assert.Equal(CrxProtocol.Codes.Internal, bad.Code);
        Assert.Contains("crun create bad1 failed", bad.Detail, StringComparison.Ordinal);
        var retry = await Assert.ThrowsAsync<CrxCallException>(() => Crx.CallAsync(new Request { StartContainer = new StartContainer { ContainerId = "bad1" } }, GuestCalls.Timeout()));
        Assert.Equal(CrxProtocol.Codes.NotFound, retry.Code);
        await Crx.RemoveContainerAsync("dup1");
    }

    [Fact]
    public async Task Sandbox_network_hostname_and_sysctls_are_applied_in_the_vm()
    {
        await Crx.CallAsync(new Request
        {
            ConfigureSandbox = new ConfigureSandbox
            {
                Hostname = "pod-a",
                Interfaces = { new Interface { Name = "eth0", Mac = GuestVm.Mac, Addresses = { "10.88.0.5/24" }, Mtu = 1400 } },
                Routes = { new Route { Gateway = "10.88.0.1", Device = "eth0" } },
                Sysctls = { ["net.ipv4.ip_forward"] = "1" },
            },
        }, GuestCalls.Timeout());

        // No network namespace in the spec: the container sees the VM's network.
        var process = await CreateAsync("net1", false, "/bin/sh", "-c", "cat /proc/sys/net/ipv4/ip_forward; ip -4 addr show dev eth0; ip route");
        await Crx.StartContainerAsync("net1");
        var (stdout, stderr, exit) = await process.CollectAsync(GuestCalls.Timeout());

        Assert.True(exit.ExitCode == 0, stderr);
        Assert.StartsWith("1\n", stdout, StringComparison.Ordinal);
        Assert.Contains("mtu 1400", stdout, StringComparison.Ordinal);
        Assert.Contains("inet 10.88.0.5/24", stdout, StringComparison.Ordinal);
        Assert.Contains("default via 10.88.0.1 dev eth0", stdout, StringComparison.Ordinal);
        await Crx.RemoveContainerAsync("net1");
    }

    private async Task<CrxProcess> CreateAsync(string id, bool log, params string[] args) =>
        await Crx.CreateAttachedAsync(new CreateContainer
        {
            ContainerId = id,
            Bundle = "/run/bundles/" + id,
            OciSpec = ByteString.CopyFrom(OciSpecs.Container(id, args)),
            Stdio = new Stdio { Log = log },
        }, GuestCalls.Timeout());
}
