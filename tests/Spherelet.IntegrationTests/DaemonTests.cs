using System.Net.Sockets;
using System.Text;
using Grpc.Core;
using Runtime.V1;

namespace Spherelet.IntegrationTests;

/// <summary>
/// The daemon as an operator runs it: its own process, its Unix socket, called through
/// Grpc.Net.Client. Needs root-free temporary paths only; the Ready conditions also need
/// libvirtd (qemu:///system, so root) and Open vSwitch running, as scripts/test arranges.
/// </summary>
public sealed class DaemonTests : IDisposable
{
    private readonly TestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Version_answers_over_the_unix_socket_with_runtime_name_and_cri_v1()
    {
        using var daemon = DaemonProcess.Start(_dir);
        using var client = await daemon.ConnectAsync();

        var version = await client.Runtime.VersionAsync(new VersionRequest { Version = "v1" });

        Assert.Equal("spherelet", version.RuntimeName);
        Assert.Equal("v1", version.RuntimeApiVersion);
        Assert.Equal("0.1.0", version.Version);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.RuntimeVersion);
    }

    [Fact]
    public async Task Status_is_ready_when_libvirt_qemu_ovs_and_the_guest_files_are_there()
    {
        using var daemon = DaemonProcess.Start(_dir, _dir.WithGuestFiles());
        using var client = await daemon.ConnectAsync();

        var status = await client.Runtime.StatusAsync(new StatusRequest { Verbose = true });

        var runtime = status.Status.Conditions.Single(c => c.Type == "RuntimeReady");
        var network = status.Status.Conditions.Single(c => c.Type == "NetworkReady");
        Assert.True(runtime.Status, $"{runtime.Reason}: {runtime.Message}");
        Assert.True(network.Status, $"{network.Reason}: {network.Message}");
        Assert.Contains("\"name\":\"libvirt\"", status.Info["checks"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Status_names_a_missing_guest_kernel_and_an_unreachable_ovsdb()
    {
        var environment = new Dictionary<string, string>
        {
            ["SPHERELET__GUEST__KERNELPATH"] = Path.Combine(_dir.Path, "no-such-vmlinuz"),
            ["SPHERELET__OVS__DBSOCKET"] = Path.Combine(_dir.Path, "no-ovsdb.sock"),
        };
        using var daemon = DaemonProcess.Start(_dir, environment);
        using var client = await daemon.ConnectAsync();

        var conditions = (await client.Runtime.StatusAsync(new StatusRequest())).Status.Conditions;

        var runtime = conditions.Single(c => c.Type == "RuntimeReady");
        Assert.False(runtime.Status);
        Assert.Contains("GuestKernelMissing", runtime.Reason, StringComparison.Ordinal);
        Assert.Contains("no-such-vmlinuz", runtime.Message, StringComparison.Ordinal);
        var network = conditions.Single(c => c.Type == "NetworkReady");
        Assert.False(network.Status);
        Assert.Equal("OvsdbUnreachable", network.Reason);
    }

    [Fact]
    public async Task Rpcs_not_built_yet_answer_Unimplemented_naming_themselves()
    {
        using var daemon = DaemonProcess.Start(_dir);
        using var client = await daemon.ConnectAsync();

        var checkpoint = await Assert.ThrowsAsync<RpcException>(() => client.Runtime.CheckpointContainerAsync(new CheckpointContainerRequest()).ResponseAsync);
        var resize = await Assert.ThrowsAsync<RpcException>(() => client.Runtime.UpdatePodSandboxResourcesAsync(new UpdatePodSandboxResourcesRequest()).ResponseAsync);

        Assert.Equal(StatusCode.Unimplemented, checkpoint.StatusCode);
        Assert.Contains("RuntimeService/CheckpointContainer", checkpoint.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.Unimplemented, resize.StatusCode);
        Assert.Contains("RuntimeService/UpdatePodSandboxResources", resize.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Go_clients_socket_path_authority_is_served_on_a_raw_http2_connection()
    {
        using var daemon = DaemonProcess.Start(_dir);
        (await daemon.ConnectAsync()).Dispose();

        var answer = await GoStyleHttp2.CallVersionAsync(daemon.Socket);

        Assert.False(answer.Reset, "the stream was reset (PROTOCOL_ERROR): the socket-path :authority was refused");
        Assert.Contains("spherelet", Encoding.ASCII.GetString(answer.Data), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pod_cidr_from_UpdateRuntimeConfig_survives_a_restart_and_a_bad_one_is_refused()
    {
        using (var daemon = DaemonProcess.Start(_dir))
        using (var client = await daemon.ConnectAsync())
        {
            await client.Runtime.UpdateRuntimeConfigAsync(new UpdateRuntimeConfigRequest
            {
                RuntimeConfig = new Runtime.V1.RuntimeConfig { NetworkConfig = new NetworkConfig { PodCidr = "10.244.7.0/24" } },
            });
            var bad = await Assert.ThrowsAsync<RpcException>(() => client.Runtime.UpdateRuntimeConfigAsync(new UpdateRuntimeConfigRequest
            {
                RuntimeConfig = new Runtime.V1.RuntimeConfig { NetworkConfig = new NetworkConfig { PodCidr = "10.244.7.9/24" } },
            }).ResponseAsync);
            Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
            Assert.Equal(0, await daemon.StopAsync());
        }

        using var restarted = DaemonProcess.Start(_dir);
        using var again = await restarted.ConnectAsync();
        var status = await again.Runtime.StatusAsync(new StatusRequest { Verbose = true });
        Assert.Contains("\"podCIDR\":\"10.244.7.0/24\"", status.Info["runtime"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task RuntimeConfig_reports_the_configured_cgroup_driver()
    {
        File.WriteAllText(_dir.ConfigFile, """{ "cgroupDriver": "systemd" }""");
        using var daemon = DaemonProcess.Start(_dir);
        using var client = await daemon.ConnectAsync();

        var config = await client.Runtime.RuntimeConfigAsync(new RuntimeConfigRequest());

        Assert.Equal(CgroupDriver.Systemd, config.Linux.CgroupDriver);
    }

    [Fact]
    public async Task Socket_is_private_to_owner_and_group_and_removed_on_a_clean_stop()
    {
        using var daemon = DaemonProcess.Start(_dir);
        (await daemon.ConnectAsync()).Dispose();

        Assert.Equal(
            UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite,
            File.GetUnixFileMode(_dir.Socket));
        Assert.Equal(0, await daemon.StopAsync());
        Assert.False(File.Exists(_dir.Socket));
    }

    [Fact]
    public async Task Notify_socket_listener_receives_READY_and_then_STOPPING()
    {
        var notifyPath = Path.Combine(_dir.Path, "notify.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(notifyPath));
        using var daemon = DaemonProcess.Start(_dir, new Dictionary<string, string> { ["NOTIFY_SOCKET"] = notifyPath });

        var ready = await ReceiveAsync(listener);
        Assert.Contains("READY=1", ready, StringComparison.Ordinal);
        using (var client = new CriClient(_dir.Socket))
        {
            // READY=1 is sent only once the socket serves.
            Assert.Equal("spherelet", (await client.Runtime.VersionAsync(new VersionRequest())).RuntimeName);
        }

        var stop = daemon.StopAsync();
        Assert.Contains("STOPPING=1", await ReceiveAsync(listener), StringComparison.Ordinal);
        Assert.Equal(0, await stop);
    }

    [Fact]
    public async Task A_second_daemon_on_a_socket_in_use_refuses_to_start_and_leaves_the_first_serving()
    {
        using var first = DaemonProcess.Start(_dir);
        using var client = await first.ConnectAsync();

        var (exitCode, output) = await DaemonProcess.RunToExitAsync(
            null, "--socket", _dir.Socket, "--root", _dir.Root, "--state", _dir.State, "--config", _dir.ConfigFile);

        Assert.Equal(1, exitCode);
        Assert.Contains("is in use", output, StringComparison.Ordinal);
        Assert.Equal("spherelet", (await client.Runtime.VersionAsync(new VersionRequest())).RuntimeName);
    }

    [Theory]
    [InlineData("Socket: 'relative.sock' must be an absolute path", "--socket", "relative.sock")]
    [InlineData("LogLevel: 'loud'", "--log-level", "loud")]
    [InlineData("Unrecognized command or argument '--sockt'", "--sockt", "/x.sock")]
    public async Task Bad_command_line_options_fail_at_start_with_a_message_naming_them(string message, params string[] args)
    {
        var (exitCode, output) = await DaemonProcess.RunToExitAsync(null, ["--config", _dir.ConfigFile, .. args]);

        Assert.Equal(2, exitCode);
        Assert.Contains(message, output, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.Socket));
    }

    [Fact]
    public async Task Unknown_key_in_the_config_file_fails_at_start_naming_it()
    {
        File.WriteAllText(_dir.ConfigFile, """{ "socket": "/tmp/x.sock", "guest": { "kernal": "/boot/vmlinuz" } }""");

        var (exitCode, output) = await DaemonProcess.RunToExitAsync(null, "--config", _dir.ConfigFile);

        Assert.Equal(2, exitCode);
        Assert.Contains("guest:kernal: unknown configuration key", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_environment_value_fails_at_start_naming_the_key()
    {
        var (exitCode, output) = await DaemonProcess.RunToExitAsync(
            new Dictionary<string, string> { ["SPHERELET__CGROUPDRIVER"] = "cgroupv3" },
            "--config", _dir.ConfigFile, "--socket", _dir.Socket);

        Assert.Equal(2, exitCode);
        Assert.Contains("CgroupDriver: 'cgroupv3'", output, StringComparison.Ordinal);
    }

    private static async Task<string> ReceiveAsync(Socket listener)
    {
        var buffer = new byte[1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var received = await listener.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received);
    }
}
