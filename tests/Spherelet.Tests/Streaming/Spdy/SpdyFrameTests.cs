using Spherelet.Streaming.Spdy;

namespace Spherelet.Tests.Streaming.Spdy;

public sealed class SpdyFrameTests
{
    // streamtype=data, port=8080, requestid=0, compressed by CPython's zlib with the SPDY/3 dictionary (see SpdyHeaderCompressionTests).
    private const string ZlibBlock = "78bbe3c6a7c202253a703a2b294a4dcc452a4a1221a572113803581858180069ce22482c66825237a301000000ffff";

    [Fact]
    public async Task A_syn_stream_with_compressed_headers_round_trips()
    {
        var frame = new SpdySynStreamFrame(
            5,
            new SpdyHeaders { { "streamtype", "data" }, { "port", "8080" }, { "requestid", "0" } },
            SpdyControlBits.Fin | SpdyControlBits.Unidirectional,
            AssociatedStreamId: 3,
            Priority: 6,
            Slot: 2);

        var read = Assert.IsType<SpdySynStreamFrame>(await RoundTripAsync(frame));

        Assert.Equal((5u, 3u, (byte)6, (byte)2, frame.Flags), (read.StreamId, read.AssociatedStreamId, read.Priority, read.Slot, read.Flags));
        Assert.Equal(frame.Headers.ToList(), read.Headers.ToList());
    }

    [Fact]
    public async Task A_syn_reply_round_trips()
    {
        var frame = new SpdySynReplyFrame(7, new SpdyHeaders { { "status", "200" } }, SpdyControlBits.Fin);

        var read = Assert.IsType<SpdySynReplyFrame>(await RoundTripAsync(frame));

        Assert.Equal((7u, SpdyControlBits.Fin), (read.StreamId, read.Flags));
        Assert.Equal(frame.Headers.ToList(), read.Headers.ToList());
    }

    [Fact]
    public async Task A_headers_frame_round_trips()
    {
        var frame = new SpdyHeadersFrame(9, new SpdyHeaders { { "x-trailer", "done" } });

        var read = Assert.IsType<SpdyHeadersFrame>(await RoundTripAsync(frame));

        Assert.Equal((9u, SpdyControlBits.None), (read.StreamId, read.Flags));
        Assert.Equal(frame.Headers.ToList(), read.Headers.ToList());
    }

    [Fact]
    public async Task A_rst_stream_round_trips()
    {
        Assert.Equal(
            new SpdyRstStreamFrame(11, SpdyStreamStatus.FlowControlError),
            await RoundTripAsync(new SpdyRstStreamFrame(11, SpdyStreamStatus.FlowControlError)));
    }

    [Fact]
    public async Task A_settings_frame_round_trips()
    {
        var frame = new SpdySettingsFrame(
            [new SpdySetting(SpdySettingId.InitialWindowSize, 1 << 20, Flags: 1), new SpdySetting(SpdySettingId.MaxConcurrentStreams, 100)],
            ClearSettings: true);

        var read = Assert.IsType<SpdySettingsFrame>(await RoundTripAsync(frame));

        Assert.True(read.ClearSettings);
        Assert.Equal(frame.Settings, read.Settings);
    }

    [Fact]
    public async Task A_ping_round_trips()
    {
        Assert.Equal(new SpdyPingFrame(0xFFFFFFFF), await RoundTripAsync(new SpdyPingFrame(0xFFFFFFFF)));
    }

    [Fact]
    public async Task A_goaway_round_trips()
    {
        Assert.Equal(
            new SpdyGoAwayFrame(13, SpdyGoAwayStatus.ProtocolError),
            await RoundTripAsync(new SpdyGoAwayFrame(13, SpdyGoAwayStatus.ProtocolError)));
    }

    [Fact]
    public async Task A_window_update_round_trips()
    {
        Assert.Equal(new SpdyWindowUpdateFrame(0, 0x7FFFFFFF), await RoundTripAsync(new SpdyWindowUpdateFrame(0, 0x7FFFFFFF)));
    }

    [Fact]
    public async Task A_data_frame_with_fin_round_trips()
    {
        var read = Assert.IsType<SpdyDataFrame>(await RoundTripAsync(new SpdyDataFrame(15, "hello"u8.ToArray(), Fin: true)));

        Assert.Equal((15u, true, "hello"), (read.StreamId, read.Fin, System.Text.Encoding.ASCII.GetString(read.Data.Span)));
    }

    [Fact]
    public async Task An_empty_data_frame_without_fin_round_trips()
    {
        var read = Assert.IsType<SpdyDataFrame>(await RoundTripAsync(new SpdyDataFrame(1, ReadOnlyMemory<byte>.Empty)));

        Assert.Equal((1u, false, 0), (read.StreamId, read.Fin, read.Data.Length));
    }

    [Theory]
    [InlineData("ping 1", "8003000600000004" + "00000001")]
    [InlineData("rst 1 cancel", "8003000300000008" + "00000001" + "00000005")]
    [InlineData("window update 1 +32768", "8003000900000008" + "00000001" + "00008000")]
    [InlineData("goaway 5 ok", "8003000700000008" + "00000005" + "00000000")]
    [InlineData("settings initial window 1024 persist", "800300040000000c" + "00000001" + "01000007" + "00000400")]
    [InlineData("data 3 fin hi", "00000003" + "01000002" + "6869")]
    public async Task Frames_are_written_as_the_spdy3_layout_says(string frame, string hex)
    {
        SpdyFrame value = frame switch
        {
            "ping 1" => new SpdyPingFrame(1),
            "rst 1 cancel" => new SpdyRstStreamFrame(1, SpdyStreamStatus.Cancel),
            "window update 1 +32768" => new SpdyWindowUpdateFrame(1, 32768),
            "goaway 5 ok" => new SpdyGoAwayFrame(5),
            "settings initial window 1024 persist" => new SpdySettingsFrame([new SpdySetting(SpdySettingId.InitialWindowSize, 1024, Flags: 1)]),
            _ => new SpdyDataFrame(3, "hi"u8.ToArray(), Fin: true),
        };

        Assert.Equal(hex, Convert.ToHexStringLower(await WriteAsync(value)));
    }

    [Fact]
    public async Task A_syn_stream_built_by_hand_around_a_zlib_block_reads_with_its_headers()
    {
        var block = Convert.FromHexString(ZlibBlock);
        var length = 10 + block.Length;
        byte[] bytes =
        [
            0x80, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, (byte)length,
            0x00, 0x00, 0x00, 0x01, // stream 1
            0x00, 0x00, 0x00, 0x00, // associated to none
            0x00, 0x00, // priority 0, slot 0
            .. block,
        ];

        var frame = Assert.IsType<SpdySynStreamFrame>(await new SpdyFrameReader(new MemoryStream(bytes)).ReadFrameAsync());

        Assert.Equal(1u, frame.StreamId);
        Assert.Equal(("data", "8080", "0"), (frame.Headers["streamtype"], frame.Headers["port"], frame.Headers["requestid"]));
    }

    [Fact]
    public async Task Frames_split_into_single_bytes_are_read_whole()
    {
        var bytes = await WriteAsync(
            new SpdySynStreamFrame(1, new SpdyHeaders { { "streamtype", "stdin" } }),
            new SpdyDataFrame(1, new byte[3000]),
            new SpdySynReplyFrame(1, new SpdyHeaders { { "a", "b" } }),
            new SpdyPingFrame(3));
        var reader = new SpdyFrameReader(new TrickleStream(bytes));

        Assert.Equal("stdin", Assert.IsType<SpdySynStreamFrame>(await reader.ReadFrameAsync()).Headers["streamtype"]);
        Assert.Equal(3000, Assert.IsType<SpdyDataFrame>(await reader.ReadFrameAsync()).Data.Length);
        Assert.Equal("b", Assert.IsType<SpdySynReplyFrame>(await reader.ReadFrameAsync()).Headers["a"]);
        Assert.Equal(new SpdyPingFrame(3), await reader.ReadFrameAsync());
        Assert.Null(await reader.ReadFrameAsync());
    }

    [Fact]
    public async Task A_frame_longer_than_the_maximum_is_a_protocol_error()
    {
        var bytes = await WriteAsync(new SpdyDataFrame(1, new byte[1025]));

        await Assert.ThrowsAsync<SpdyProtocolException>(() => new SpdyFrameReader(new MemoryStream(bytes), maxFrameLength: 1024).ReadFrameAsync().AsTask());
    }

    [Fact]
    public async Task A_frame_of_the_maximum_length_is_read()
    {
        var bytes = await WriteAsync(new SpdyDataFrame(1, new byte[1024]));

        var frame = await new SpdyFrameReader(new MemoryStream(bytes), maxFrameLength: 1024).ReadFrameAsync();

        Assert.Equal(1024, Assert.IsType<SpdyDataFrame>(frame).Data.Length);
    }

    [Fact]
    public async Task A_control_frame_of_an_unknown_type_is_skipped()
    {
        // Type 10 (CREDENTIAL) with a 3-byte payload, then a PING.
        byte[] bytes = [0x80, 0x03, 0x00, 0x0A, 0x00, 0x00, 0x00, 0x03, 1, 2, 3, .. await WriteAsync(new SpdyPingFrame(5))];

        Assert.Equal(new SpdyPingFrame(5), await new SpdyFrameReader(new MemoryStream(bytes)).ReadFrameAsync());
    }

    [Fact]
    public async Task A_control_frame_of_another_version_is_a_protocol_error()
    {
        byte[] bytes = [0x80, 0x02, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1];

        await Assert.ThrowsAsync<SpdyProtocolException>(() => new SpdyFrameReader(new MemoryStream(bytes)).ReadFrameAsync().AsTask());
    }

    [Fact]
    public async Task A_control_frame_of_the_wrong_length_is_a_protocol_error()
    {
        byte[] bytes = [0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x05, 0, 0, 0, 1, 0];

        await Assert.ThrowsAsync<SpdyProtocolException>(() => new SpdyFrameReader(new MemoryStream(bytes)).ReadFrameAsync().AsTask());
    }

    [Fact]
    public async Task A_stream_that_ends_inside_a_frame_throws_end_of_stream()
    {
        var bytes = await WriteAsync(new SpdyDataFrame(1, new byte[100]));

        await Assert.ThrowsAsync<EndOfStreamException>(() => new SpdyFrameReader(new MemoryStream(bytes[..50])).ReadFrameAsync().AsTask());
        await Assert.ThrowsAsync<EndOfStreamException>(() => new SpdyFrameReader(new MemoryStream(bytes[..5])).ReadFrameAsync().AsTask());
    }

    [Fact]
    public async Task Frames_written_from_many_tasks_at_once_never_interleave()
    {
        var output = new MemoryStream();
        using var writer = new SpdyFrameWriter(output);

        await Task.WhenAll(Enumerable.Range(1, 50).Select(id => Task.Run(async () =>
        {
            await writer.WriteAsync(new SpdyDataFrame((uint)id, Enumerable.Repeat((byte)id, 5000).ToArray()));
            await writer.WriteAsync(new SpdyHeadersFrame((uint)id, new SpdyHeaders { { "id", id.ToString(System.Globalization.CultureInfo.InvariantCulture) } }));
        })));

        output.Position = 0;
        var reader = new SpdyFrameReader(output);
        var frames = new List<SpdyFrame>();
        while (await reader.ReadFrameAsync() is { } frame)
        {
            frames.Add(frame);
        }

        Assert.Equal(100, frames.Count);
        Assert.All(frames.OfType<SpdyDataFrame>(), f => Assert.All(f.Data.ToArray(), b => Assert.Equal((byte)f.StreamId, b)));
        Assert.All(frames.OfType<SpdyHeadersFrame>(), f => Assert.Equal(f.StreamId.ToString(System.Globalization.CultureInfo.InvariantCulture), f.Headers["id"]));
    }

    private static async Task<byte[]> WriteAsync(params SpdyFrame[] frames)
    {
        var output = new MemoryStream();
        using var writer = new SpdyFrameWriter(output);
        foreach (var frame in frames)
        {
            await writer.WriteAsync(frame);
        }

        return output.ToArray();
    }

    private static async Task<SpdyFrame?> RoundTripAsync(SpdyFrame frame)
    {
        var reader = new SpdyFrameReader(new MemoryStream(await WriteAsync(frame)));
        var read = await reader.ReadFrameAsync();
        Assert.Null(await reader.ReadFrameAsync());
        return read;
    }
}
