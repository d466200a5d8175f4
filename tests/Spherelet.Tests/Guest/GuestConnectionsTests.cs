using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;
using Spherelet.Domain.Errors;
using Spherelet.Guest;

namespace Spherelet.Tests.Guest;

/// <summary>The agent's per-pod guest connections against the real CRX server on a Unix socket (no VM).</summary>
public sealed class GuestConnectionsTests
{
    private static GuestConnections Connections(double connectTimeoutSeconds = 10) => new(
        new GuestChannelOptions { ConnectTimeout = TimeSpan.FromSeconds(connectTimeoutSeconds), HostVersion = "test" },
        NullLogger<GuestConnections>.Instance);

    [Fact]
    public async Task Connecting_waits_for_a_guest_that_is_still_booting()
    {
        await using var guest = new GuestChannelServer();
        guest.Start(delay: TimeSpan.FromMilliseconds(400));
        await using var connections = Connections();

        var connection = await connections.GetAsync("pod-a", guest.SocketPath, CancellationToken.None);

        Assert.True(connection.IsOpen);
        Assert.Equal(42UL, connection.Peer.BootToReadyMs);
        Assert.Equal("pod-a", connection.PodId);
    }

    [Fact]
    public async Task Concurrent_callers_share_one_connection_and_a_lost_one_is_opened_again()
    {
        await using var guest = new GuestChannelServer();
        guest.Start(TimeSpan.Zero);
        await using var connections = Connections();

        var both = await Task.WhenAll(
            connections.GetAsync("pod-a", guest.SocketPath, CancellationToken.None),
            connections.GetAsync("pod-a", guest.SocketPath, CancellationToken.None));
        Assert.Same(both[0], both[1]);
        Assert.Equal(1, guest.Connections);

        guest.DropConnections();
        await both[0].Closed.WaitAsync(TimeSpan.FromSeconds(10));
        var lost = await Assert.ThrowsAsync<GuestUnavailableException>(() => both[0].PingAsync(CancellationToken.None));
        var again = await connections.GetAsync("pod-a", guest.SocketPath, CancellationToken.None);

        Assert.NotSame(both[0], again);
        Assert.True(await again.PingAsync(CancellationToken.None) > TimeSpan.Zero);
        Assert.Equal(2, guest.Connections);
        Assert.Contains("pod-a", lost.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_guest_that_never_answers_is_unavailable_after_the_timeout_and_the_next_call_tries_again()
    {
        await using var guest = new GuestChannelServer();
        guest.Start(TimeSpan.Zero, answer: false);
        await guest.Listening;
        await using var connections = Connections(connectTimeoutSeconds: 0.5);

        var silent = await Assert.ThrowsAsync<GuestUnavailableException>(() => connections.GetAsync("pod-a", guest.SocketPath, CancellationToken.None));
        var absent = await Assert.ThrowsAsync<GuestUnavailableException>(() => connections.GetAsync("pod-b", guest.SocketPath + ".missing", CancellationToken.None));
        await Assert.ThrowsAsync<GuestUnavailableException>(() => connections.GetAsync("pod-a", guest.SocketPath, CancellationToken.None));

        Assert.Contains("did not answer", silent.Message, StringComparison.Ordinal);
        Assert.Contains("pod-b", absent.Message, StringComparison.Ordinal);
        Assert.True(guest.Connections == 2, $"{guest.Connections} connections");
        Assert.Equal(0, connections.OpenCount);
    }

    [Fact]
    public async Task Guest_errors_reach_the_caller_as_typed_domain_errors()
    {
        await using var guest = new GuestChannelServer();
        guest.Start(TimeSpan.Zero);
        await using var connections = Connections();
        var connection = await connections.GetAsync("pod-a", guest.SocketPath, CancellationToken.None);

        await Assert.ThrowsAsync<ObjectNotFoundException>(() => connection.StartContainerAsync("nope", CancellationToken.None));
        await Assert.ThrowsAsync<InvalidRequestException>(() => connection.CreateContainerAsync(
            new CreateContainer { ContainerId = "../escape", Bundle = "/run/b", OciSpec = ByteString.CopyFromUtf8("{}") }, CancellationToken.None));
        await Assert.ThrowsAsync<ObjectNotFoundException>(() => connection.AttachAsync("nope", string.Empty, CancellationToken.None));
        // Removing what does not exist succeeds (idempotent), and the channel is still fine.
        await connection.RemoveContainerAsync("nope", CancellationToken.None);
        Assert.True(connection.IsOpen);
    }

    [Theory]
    [InlineData(CrxProtocol.Codes.InvalidArgument, typeof(InvalidRequestException))]
    [InlineData(CrxProtocol.Codes.NotFound, typeof(ObjectNotFoundException))]
    [InlineData(CrxProtocol.Codes.AlreadyExists, typeof(ObjectAlreadyExistsException))]
    [InlineData(CrxProtocol.Codes.FailedPrecondition, typeof(PreconditionFailedException))]
    [InlineData(CrxProtocol.Codes.Unavailable, typeof(GuestUnavailableException))]
    [InlineData(CrxProtocol.Codes.Internal, typeof(GuestOperationFailedException))]
    [InlineData(CrxProtocol.Codes.Unimplemented, typeof(GuestOperationFailedException))]
    public void Each_crx_error_code_has_its_domain_error(string code, Type expected)
    {
        var translated = GuestErrors.Translate(new CrxCallException(code, "detail"), "pod-a");

        Assert.IsType(expected, translated);
        Assert.Contains("detail", translated!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lost_channel_is_guest_unavailable_and_other_exceptions_are_not_translated()
    {
        Assert.IsType<GuestUnavailableException>(GuestErrors.Translate(new CrxConnectionLostException("gone"), "pod-a"));
        Assert.Null(GuestErrors.Translate(new InvalidOperationException("bug"), "pod-a"));
    }
}
