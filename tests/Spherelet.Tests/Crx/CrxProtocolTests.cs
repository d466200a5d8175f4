using System.Buffers.Binary;
using Google.Protobuf;
using Spherelet.Crx.Containers;
using Spherelet.Crx.Guest;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;
using Spherelet.Crx.Server;

namespace Spherelet.Tests.Crx;

/// <summary>The host-guest protocol over a socket pair, with no VM: the real CrxClient against the real CrxServer.</summary>
public sealed class CrxProtocolTests : IAsyncLifetime
{
    private readonly string _state = Directory.CreateTempSubdirectory("crx-state-").FullName;
    private SocketPair _pair = null!;
    private CrxServer _server = null!;
    private Task _serving = null!;
    private readonly CancellationTokenSource _stop = new();

    public async Task InitializeAsync()
    {
        _pair = await SocketPair.CreateAsync();
        _server = new CrxServer(
            new Crun("/usr/bin/crun", _state), _state, new SandboxConfigurator("/bin/busybox", applyToSystem: false),
            Path.Combine(_state, "sandbox"), TimeSpan.FromMilliseconds(42), _ => Task.CompletedTask);
        _serving = _server.ServeAsync(_pair.Guest, _pair.Guest, waitForHost: false, _stop.Token);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _pair.Dispose();
        await Task.WhenAny(_serving, Task.Delay(5000));
        _server.Dispose();
        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task Handshake_agrees_on_the_protocol_version()
    {
        await using var client = await CrxClient.ConnectAsync(_pair.Host, "test", CancellationToken.None);

        Assert.Equal(CrxProtocol.Version, client.Peer.ProtocolVersion);
        Assert.Equal(42UL, client.Peer.BootToReadyMs);
    }

    [Fact]
    public async Task Another_protocol_version_is_refused()
    {
        var writer = new FrameWriter(_pair.Host);
        var reader = new FrameReader(_pair.Host);
        await writer.WriteAsync(new Frame { Id = 7, Request = new Request { Hello = new Hello { ProtocolVersion = 99 } } }, CancellationToken.None);

        var reply = (await reader.ReadAsync(CancellationToken.None)).Frame!;

        Assert.Equal(7UL, reply.Id);
        Assert.Equal(CrxProtocol.Codes.VersionMismatch, reply.Response.Error.Code);
    }

    [Fact]
    public async Task Concurrent_calls_are_each_answered_with_their_own_reply()
    {
        await using var client = await CrxClient.ConnectAsync(_pair.Host, "test", CancellationToken.None);

        var calls = Enumerable.Range(0, 200).Select(async i =>
        {
            var payload = ByteString.CopyFromUtf8($"ping-{i}");
            var response = await client.CallAsync(new Request { Ping = new Ping { Payload = payload } }, CancellationToken.None);
            return (payload, response.Ping.Payload);
        });

        foreach (var (sent, received) in await Task.WhenAll(calls))
        {
            Assert.Equal(sent, received);
        }
    }

    [Fact]
    public async Task Malformed_and_oversized_frames_get_errors_and_the_channel_stays_usable()
    {
        var reader = new FrameReader(_pair.Host);
        // Not a protobuf message: a field tag with wire type 7, which does not exist.
        await _pair.Host.WriteAsync(new byte[] { 0, 0, 0, 2, 0x0F, 0x01 });
        var malformed = (await reader.ReadAsync(CancellationToken.None)).Frame!;
        Assert.Equal(CrxProtocol.Codes.MalformedFrame, malformed.Response.Error.Code);

        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, CrxProtocol.MaxFrameBytes + 1);
        await _pair.Host.WriteAsync(header);
        await _pair.Host.WriteAsync(new byte[CrxProtocol.MaxFrameBytes + 1]);
        var oversized = (await reader.ReadAsync(CancellationToken.None)).Frame!;
        Assert.Equal(CrxProtocol.Codes.FrameTooLarge, oversized.Response.Error.Code);

        await new FrameWriter(_pair.Host).WriteAsync(new Frame { Id = 5, Request = new Request { Ping = new Ping() } }, CancellationToken.None);
        var pong = (await reader.ReadAsync(CancellationToken.None)).Frame!;
        Assert.Equal(5UL, pong.Id);
        Assert.NotNull(pong.Response.Ping);
    }

    [Fact]
    public async Task Request_without_a_known_call_is_unimplemented()
    {
        await using var client = await CrxClient.ConnectAsync(_pair.Host, "test", CancellationToken.None);

        var error = await Assert.ThrowsAsync<CrxCallException>(() => client.CallAsync(new Request(), CancellationToken.None));

        Assert.Equal(CrxProtocol.Codes.Unimplemented, error.Code);
    }

    [Fact]
    public async Task Bad_requests_are_refused_with_invalid_argument_and_not_found()
    {
        await using var client = await CrxClient.ConnectAsync(_pair.Host, "test", CancellationToken.None);

        var badId = await Assert.ThrowsAsync<CrxCallException>(() => client.CallAsync(
            new Request { CreateContainer = new CreateContainer { ContainerId = "../escape", Bundle = "/run/b", OciSpec = ByteString.CopyFromUtf8("{}") } },
            CancellationToken.None));
        var missing = await Assert.ThrowsAsync<CrxCallException>(() => client.CallAsync(
            new Request { StartContainer = new StartContainer { ContainerId = "nope" } }, CancellationToken.None));
        var badSysctl = await Assert.ThrowsAsync<CrxCallException>(() => client.CallAsync(
            new Request { ConfigureSandbox = new ConfigureSandbox { Sysctls = { ["../../etc/passwd"] = "x" } } }, CancellationToken.None));

        Assert.Equal(CrxProtocol.Codes.InvalidArgument, badId.Code);
        Assert.Equal(CrxProtocol.Codes.NotFound, missing.Code);
        Assert.Equal(CrxProtocol.Codes.InvalidArgument, badSysctl.Code);
    }

    [Fact]
    public async Task Attach_resize_and_detach_of_unknown_processes_are_refused_and_change_nothing()
    {
        await using var client = await CrxClient.ConnectAsync(_pair.Host, "test", CancellationToken.None);

        var attach = await Assert.ThrowsAsync<CrxCallException>(() => client.AttachAsync("nope", string.Empty, CancellationToken.None));
        var resize = await Assert.ThrowsAsync<CrxCallException>(() => client.CallAsync(
            new Request { Resize = new ResizeTerminal { ContainerId = "nope", Width = 80, Height = 24 } }, CancellationToken.None));
        // Detaching a stream nobody attached is a no-op, as a repeated detach must be.
        await client.CallAsync(new Request { Detach = new DetachStream { StreamId = 12345 } }, CancellationToken.None);
        var pong = await client.PingAsync(CancellationToken.None);

        Assert.Equal(CrxProtocol.Codes.NotFound, attach.Code);
        Assert.Equal(CrxProtocol.Codes.NotFound, resize.Code);
        Assert.Empty(_server.Containers.Containers);
        Assert.True(pong > TimeSpan.Zero);
    }

    [Fact]
    public async Task Sandbox_files_are_written_for_containers_to_mount()
    {
        await using var client = await CrxClient.ConnectAsync(_pair.Host, "test", CancellationToken.None);

        await client.CallAsync(new Request
        {
            ConfigureSandbox = new ConfigureSandbox
            {
                Hostname = "web-0",
                DnsServers = { "10.96.0.10" },
                DnsSearches = { "default.svc.cluster.local", "svc.cluster.local" },
                DnsOptions = { "ndots:5" },
                Hosts = { "10.244.1.7\tweb-0.web" },
            },
        }, CancellationToken.None);

        var dir = Path.Combine(_state, "sandbox");
        Assert.Equal("web-0\n", await File.ReadAllTextAsync(Path.Combine(dir, "hostname")));
        Assert.Equal(
            "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local\noptions ndots:5\n",
            await File.ReadAllTextAsync(Path.Combine(dir, "resolv.conf")));
        Assert.Contains("127.0.1.1\tweb-0\n10.244.1.7\tweb-0.web\n", await File.ReadAllTextAsync(Path.Combine(dir, "hosts")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Pending_calls_fail_as_connection_lost_when_the_guest_vanishes()
    {
        await using var client = await CrxClient.ConnectAsync(_pair.Host, "test", CancellationToken.None);
        var waiting = client.CallAsync(new Request { Wait = new WaitProcess { ContainerId = "x" } }, CancellationToken.None);
        _ = await Assert.ThrowsAsync<CrxCallException>(() => waiting); // NOT_FOUND first: the channel still works

        _pair.Guest.Dispose();

        await Assert.ThrowsAsync<CrxConnectionLostException>(() => client.PingAsync(CancellationToken.None));
        await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
