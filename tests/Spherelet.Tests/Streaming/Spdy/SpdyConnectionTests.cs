using System.Text;
using Spherelet.Streaming.Spdy;

namespace Spherelet.Tests.Streaming.Spdy;

public sealed class SpdyConnectionTests
{
    private static readonly TimeSpan Timeout = SpdyTestClient.Timeout;
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task A_stream_the_client_opens_arrives_with_its_headers_and_the_reply_reaches_the_client()
    {
        await using var client = await SpdyTestClient.ConnectAsync();
        await client.SendAsync(new SpdySynStreamFrame(1, new SpdyHeaders { { "streamtype", "data" }, { "port", "8080" }, { "requestid", "0" } }));

        var stream = await client.Server.AcceptStreamAsync().AsTask().WaitAsync(Timeout);
        Assert.NotNull(stream);
        await stream.ReplyAsync(new SpdyHeaders { { "x-accepted", "yes" } });
        var reply = await client.NextAsync<SpdySynReplyFrame>();

        Assert.Equal(1u, stream.Id);
        Assert.Equal(("data", "8080", "0"), (stream.Headers["streamtype"], stream.Headers["port"], stream.Headers["requestid"]));
        Assert.Equal(1u, reply.StreamId);
        Assert.Equal("yes", reply.Headers["x-accepted"]);
    }

    [Fact]
    public async Task Streams_opened_one_after_another_keep_their_headers_on_the_shared_compression_context()
    {
        await using var client = await SpdyTestClient.ConnectAsync();
        string[] types = ["error", "stdin", "stdout", "stderr", "resize"];

        var streams = new List<SpdyStream>();
        for (var i = 0; i < types.Length; i++)
        {
            streams.Add(await client.OpenStreamAsync((uint)((2 * i) + 1), types[i]));
        }

        Assert.Equal(types, streams.Select(s => s.Headers["streamtype"]));
        Assert.Equal([1u, 3u, 5u, 7u, 9u], streams.Select(s => s.Id));
    }

    [Fact]
    public async Task Data_goes_both_ways_and_fin_ends_each_way_and_shows_as_the_peers_fin()
    {
        await using var client = await SpdyTestClient.ConnectAsync();
        var stream = await client.OpenStreamAsync(1);

        await client.SendAsync(new SpdyDataFrame(1, "hello "u8.ToArray()));
        await client.SendAsync(new SpdyDataFrame(1, "server"u8.ToArray(), Fin: true));
        var received = await ReadToEndAsync(stream);
        await stream.WriteAsync("hello client"u8.ToArray());
        await stream.CloseWriteAsync();
        var data = await client.NextAsync<SpdyDataFrame>();
        var fin = await client.NextAsync<SpdyDataFrame>();

        Assert.Equal("hello server", Encoding.ASCII.GetString(received));
        Assert.True(stream.FinReceived);
        Assert.Equal(0, await stream.ReadAsync(new byte[16]));
        Assert.Equal(("hello client", false), (Encoding.ASCII.GetString(data.Data.Span), data.Fin));
        Assert.Equal((1u, 0, true), (fin.StreamId, fin.Data.Length, fin.Fin));
        await Assert.ThrowsAsync<InvalidOperationException>(() => stream.WriteAsync(new byte[1]));
    }

    [Fact]
    public async Task A_long_write_goes_out_in_frames_no_longer_than_the_maximum()
    {
        await using var client = await SpdyTestClient.ConnectAsync(new SpdyConnectionOptions { MaxDataFrameLength = 1000 });
        var stream = await client.OpenStreamAsync(1);
        var payload = Enumerable.Range(0, 4500).Select(i => (byte)i).ToArray();

        await stream.WriteAsync(payload);
        var frames = new List<SpdyDataFrame>();
        while (frames.Sum(f => f.Data.Length) < payload.Length)
        {
            frames.Add(await client.NextAsync<SpdyDataFrame>());
        }

        Assert.Equal([1000, 1000, 1000, 1000, 500], frames.Select(f => f.Data.Length));
        Assert.Equal(payload, frames.SelectMany(f => f.Data.ToArray()));
    }

    [Fact]
    public async Task A_write_larger_than_the_window_waits_for_window_update_then_completes()
    {
        await using var client = await SpdyTestClient.ConnectAsync(new SpdyConnectionOptions { SendFlowControl = SpdySendFlowControl.Always });
        var stream = await client.OpenStreamAsync(1);
        var payload = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();

        var write = stream.WriteAsync(payload);
        var first = await client.ReadDataAsync(1, SpdyConnection.InitialWindowSize);
        var heldBack = !await client.ArrivesWithinAsync<SpdyDataFrame>(Quiet) && !write.IsCompleted;
        await client.SendAsync(new SpdyWindowUpdateFrame(1, 50_000));
        await client.SendAsync(new SpdyWindowUpdateFrame(0, 50_000));
        var rest = await client.ReadDataAsync(1, payload.Length - SpdyConnection.InitialWindowSize);
        await write.WaitAsync(Timeout);

        Assert.True(heldBack, "the write went past the window before any WINDOW_UPDATE");
        Assert.Equal(payload, first.Concat(rest));
    }

    [Fact]
    public async Task The_session_window_holds_writes_on_every_stream()
    {
        await using var client = await SpdyTestClient.ConnectAsync(new SpdyConnectionOptions { SendFlowControl = SpdySendFlowControl.Always });
        var one = await client.OpenStreamAsync(1);
        var three = await client.OpenStreamAsync(3);

        await one.WriteAsync(new byte[40_000]);
        var write = three.WriteAsync(new byte[40_000]);
        await client.ReadDataAsync(1, 40_000);
        await client.ReadDataAsync(3, SpdyConnection.InitialWindowSize - 40_000);
        var heldBack = !await client.ArrivesWithinAsync<SpdyDataFrame>(Quiet) && !write.IsCompleted;
        await client.SendAsync(new SpdyWindowUpdateFrame(0, 40_000));
        await client.ReadDataAsync(3, 40_000 - (SpdyConnection.InitialWindowSize - 40_000));
        await write.WaitAsync(Timeout);

        Assert.True(heldBack, "stream 3 sent past the session window");
    }

    [Fact]
    public async Task A_peer_that_sends_an_initial_window_setting_is_held_to_it()
    {
        await using var client = await SpdyTestClient.ConnectAsync();
        await client.SendAsync(new SpdySettingsFrame([new SpdySetting(SpdySettingId.InitialWindowSize, 1000)]));
        var stream = await client.OpenStreamAsync(1);

        var write = stream.WriteAsync(new byte[3000]);
        await client.ReadDataAsync(1, 1000);
        var heldBack = !await client.ArrivesWithinAsync<SpdyDataFrame>(Quiet) && !write.IsCompleted;
        await client.SendAsync(new SpdyWindowUpdateFrame(1, 2000));
        await client.ReadDataAsync(1, 2000);
        await write.WaitAsync(Timeout);

        Assert.True(heldBack, "the write went past the 1000-byte window the peer set");
    }

    [Fact]
    public async Task A_peer_that_never_sends_window_updates_is_not_held_back_by_default()
    {
        // moby/spdystream neither sends WINDOW_UPDATE or SETTINGS nor keeps to windows.
        await using var client = await SpdyTestClient.ConnectAsync();
        var stream = await client.OpenStreamAsync(1);
        var payload = new byte[300_000];
        Random.Shared.NextBytes(payload);

        await stream.WriteAsync(payload).WaitAsync(Timeout);
        var received = await client.ReadDataAsync(1, payload.Length);

        Assert.Equal(payload, received);
    }

    [Fact]
    public async Task Data_read_by_the_application_goes_back_to_the_peer_as_window_updates()
    {
        await using var client = await SpdyTestClient.ConnectAsync();
        var stream = await client.OpenStreamAsync(1);

        for (var i = 0; i < 5; i++)
        {
            await client.SendAsync(new SpdyDataFrame(1, new byte[10_000]));
        }

        var read = 0;
        var buffer = new byte[4096];
        while (read < 50_000)
        {
            read += await stream.ReadAsync(buffer).AsTask().WaitAsync(Timeout);
        }

        var streamUpdate = await client.NextAsync<SpdyWindowUpdateFrame>(f => f.StreamId == 1);
        var sessionUpdate = await client.NextAsync<SpdyWindowUpdateFrame>(f => f.StreamId == 0);

        Assert.InRange(streamUpdate.Delta, 32_768u, 50_000u);
        Assert.InRange(sessionUpdate.Delta, 32_768u, 50_000u);
    }

    [Fact]
    public async Task Data_the_application_has_not_read_is_not_given_back()
    {
        await using var client = await SpdyTestClient.ConnectAsync();
        await client.OpenStreamAsync(1);

        await client.SendAsync(new SpdyDataFrame(1, new byte[50_000]));

        Assert.False(await client.ArrivesWithinAsync<SpdyWindowUpdateFrame>(Quiet));
    }

    [Fact]
    public async Task A_ping_from_the_client_is_answered_with_the_same_id()
    {
        await using var client = await SpdyTestClient.ConnectAsync();

        await client.SendAsync(new SpdyPingFrame(2));
        await client.SendAsync(new SpdyPingFrame(7));
        var pong = await client.NextAsync<SpdyPingFrame>();

        // The even id would be an answer to a ping of the server's own, which it never sends.
        Assert.Equal(7u, pong.Id);
    }

    [Fact]
    public async Task Rst_stream_from_the_client_ends_the_stream()
    {
        await using var client = await SpdyTestClient.ConnectAsync();
        var stream = await client.OpenStreamAsync(1);
        var pendingRead = stream.ReadAsync(new byte[16]).AsTask();

        await client.SendAsync(new SpdyRstStreamFrame(1, SpdyStreamStatus.Cancel));

        Assert.Equal(0, await pendingRead.WaitAsync(Timeout));
        Assert.Equal(SpdyStreamStatus.Cancel, stream.ResetStatus);
        await Assert.ThrowsAsync<IOException>(() => stream.WriteAsync(new byte[1]));
    }

    [Fact]
    public async Task Closing_a_stream_the_client_reset_sends_nothing()
    {
        await using var client = await SpdyTestClient.ConnectAsync();
        var stream = await client.OpenStreamAsync(1);
        await client.SendAsync(new SpdyRstStreamFrame(1, SpdyStreamStatus.Cancel));
        Assert.Equal(0, await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(Timeout));

        await stream.CloseWriteAsync();

        Assert.False(await client.ArrivesWithinAsync<SpdyDataFrame>(Quiet));
    }

    [Fact]
    public async Task A_syn_stream_with_fin_has_nothing_to_read_and_a_unidirectional_one_takes_no_data()
    {
        await using var client = await SpdyTestClient.ConnectAsync();

        await client.SendAsync(new SpdySynStreamFrame(1, new SpdyHeaders { { "streamtype", "data" } }, SpdyControlBits.Fin | SpdyControlBits.Unidirectional));
        var stream = await client.Server.AcceptStreamAsync().AsTask().WaitAsync(Timeout);

        Assert.NotNull(stream);
        Assert.Equal(0, await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(Timeout));
        await stream.ReplyAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => stream.WriteAsync(new byte[1]));
    }

    [Fact]
    public async Task A_stream_holding_too_much_unread_data_stops_the_reading_of_the_connection_until_it_is_read()
    {
        await using var client = await SpdyTestClient.ConnectAsync(new SpdyConnectionOptions { MaxBufferedBytesPerStream = 10_000 });
        var stream = await client.OpenStreamAsync(1);

        for (var i = 0; i < 3; i++)
        {
            await client.SendAsync(new SpdyDataFrame(1, new byte[8_000]));
        }

        await client.SendAsync(new SpdyPingFrame(1));
        var answeredWhileFull = await client.ArrivesWithinAsync<SpdyPingFrame>(Quiet);
        var read = 0;
        while (read < 24_000)
        {
            read += await stream.ReadAsync(new byte[4096]).AsTask().WaitAsync(Timeout);
        }

        Assert.False(answeredWhileFull, "the PING behind the data was answered while the stream was over its limit");
        Assert.Equal(1u, (await client.NextAsync<SpdyPingFrame>()).Id);
    }

    [Fact]
    public async Task A_write_waiting_for_window_fails_when_the_client_resets_the_stream()
    {
        await using var client = await SpdyTestClient.ConnectAsync(new SpdyConnectionOptions { SendFlowControl = SpdySendFlowControl.Always });
        var stream = await client.OpenStreamAsync(1);
        var write = stream.WriteAsync(new byte[SpdyConnection.InitialWindowSize + 1]);
        await client.ReadDataAsync(1, SpdyConnection.InitialWindowSize);

        await client.SendAsync(new SpdyRstStreamFrame(1, SpdyStreamStatus.Cancel));

        await Assert.ThrowsAsync<IOException>(() => write.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Resetting_a_stream_sends_rst_stream_and_ends_its_reads()
    {
        await using var client = await SpdyTestClient.ConnectAsync();
        var stream = await client.OpenStreamAsync(1);
        await client.SendAsync(new SpdyDataFrame(1, new byte[100]));

        await stream.ResetAsync(SpdyStreamStatus.InternalError);
        var rst = await client.NextAsync<SpdyRstStreamFrame>();

        Assert.Equal(new SpdyRstStreamFrame(1, SpdyStreamStatus.InternalError), rst);
        Assert.Equal(0, await stream.ReadAsync(new byte[16]));
    }

    [Fact]
    public async Task After_goaway_from_the_client_no_new_stream_is_taken_but_open_ones_go_on()
    {
        await using var client = await SpdyTestClient.ConnectAsync();
        var stream = await client.OpenStreamAsync(1);

        await client.SendAsync(new SpdyGoAwayFrame(0));
        await client.SendAsync(new SpdySynStreamFrame(3, new SpdyHeaders { { "streamtype", "data" } }));
        var refused = await client.NextAsync<SpdyRstStreamFrame>();
        var accepted = await client.Server.AcceptStreamAsync().AsTask().WaitAsync(Timeout);
        await client.SendAsync(new SpdyDataFrame(1, "still here"u8.ToArray(), Fin: true));

        Assert.Equal(new SpdyRstStreamFrame(3, SpdyStreamStatus.RefusedStream), refused);
        Assert.Null(accepted);
        Assert.Equal("still here", Encoding.ASCII.GetString(await ReadToEndAsync(stream)));
    }

    [Fact]
    public async Task A_stream_id_that_does_not_grow_is_refused_with_a_protocol_error()
    {
        await using var client = await SpdyTestClient.ConnectAsync();
        await client.OpenStreamAsync(5);

        await client.SendAsync(new SpdySynStreamFrame(3, new SpdyHeaders { { "streamtype", "data" } }));

        Assert.Equal(new SpdyRstStreamFrame(3, SpdyStreamStatus.ProtocolError), await client.NextAsync<SpdyRstStreamFrame>());
    }

    [Fact]
    public async Task The_client_closing_the_connection_ends_every_stream_and_the_session()
    {
        await using var client = await SpdyTestClient.ConnectAsync(new SpdyConnectionOptions { SendFlowControl = SpdySendFlowControl.Always });
        var one = await client.OpenStreamAsync(1);
        var three = await client.OpenStreamAsync(3);
        var pendingRead = one.ReadAsync(new byte[16]).AsTask();
        var blockedWrite = three.WriteAsync(new byte[SpdyConnection.InitialWindowSize + 1]);
        await client.ReadDataAsync(3, SpdyConnection.InitialWindowSize);
        var pendingAccept = client.Server.AcceptStreamAsync().AsTask();

        await client.DisconnectAsync();

        await client.Server.Completion.WaitAsync(Timeout);
        Assert.Equal(0, await pendingRead.WaitAsync(Timeout));
        Assert.Equal(0, await three.ReadAsync(new byte[16]).AsTask().WaitAsync(Timeout));
        Assert.False(one.FinReceived, "reads ended by the connection's end, not by the peer's FIN");
        Assert.Null(await pendingAccept.WaitAsync(Timeout));
        await Assert.ThrowsAsync<IOException>(() => blockedWrite.WaitAsync(Timeout));
        await Assert.ThrowsAsync<IOException>(() => one.WriteAsync(new byte[1]));
    }

    [Fact]
    public async Task Disposing_the_connection_sends_goaway_and_ends_every_stream()
    {
        var client = await SpdyTestClient.ConnectAsync();
        var stream = await client.OpenStreamAsync(1);
        await client.OpenStreamAsync(3);
        var pendingRead = stream.ReadAsync(new byte[16]).AsTask();

        await client.Server.DisposeAsync();
        var goAway = await client.NextAsync<SpdyGoAwayFrame>();

        Assert.Equal(new SpdyGoAwayFrame(3, SpdyGoAwayStatus.Ok), goAway);
        Assert.Equal(0, await pendingRead.WaitAsync(Timeout));
        await Assert.ThrowsAsync<IOException>(() => stream.WriteAsync(new byte[1]));
        Assert.Null(await client.Server.AcceptStreamAsync());
        await client.ClosedByServer.WaitAsync(Timeout);
        await client.DisposeAsync();
    }

    [Fact]
    public async Task A_frame_that_breaks_the_protocol_ends_the_session_with_goaway()
    {
        await using var client = await SpdyTestClient.ConnectAsync();
        await client.OpenStreamAsync(1);

        // A SYN_STREAM whose header block is not zlib: the compression contexts can no longer agree.
        await client.SendRawAsync([0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0E, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
        var goAway = await client.NextAsync<SpdyGoAwayFrame>();

        Assert.Equal(SpdyGoAwayStatus.ProtocolError, goAway.Status);
        await client.Server.Completion.WaitAsync(Timeout);
        await client.ClosedByServer.WaitAsync(Timeout);
    }

    private static async Task<byte[]> ReadToEndAsync(SpdyStream stream)
    {
        var data = new MemoryStream();
        var buffer = new byte[1024];
        int read;
        while ((read = await stream.ReadAsync(buffer).AsTask().WaitAsync(Timeout)) > 0)
        {
            data.Write(buffer, 0, read);
        }

        return data.ToArray();
    }
}
