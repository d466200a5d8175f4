using System.Buffers.Binary;

namespace Spherelet.Streaming.Spdy;

/// <summary>
/// Reads SPDY/3 frames from a stream, one at a time, each whole however the stream splits it. Header blocks are
/// inflated through this reader's own <see cref="SpdyHeaderDecompressor"/>, the context of the peer's direction.
/// Control frames of unknown types are skipped, as the protocol asks. Not thread-safe: one reader at a time.
/// </summary>
public sealed class SpdyFrameReader
{
    private const uint ControlBit = 0x80000000;
    private const uint StreamIdMask = 0x7FFFFFFF;

    private readonly Stream _stream;
    private readonly int _maxFrameLength;
    private readonly SpdyHeaderDecompressor _headers = new();
    private readonly byte[] _frameHeader = new byte[8];

    /// <param name="stream">The stream to read.</param>
    /// <param name="maxFrameLength">The longest frame payload accepted; a longer one is a protocol error.</param>
    public SpdyFrameReader(Stream stream, int maxFrameLength = SpdyFrame.MaxLength)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameLength, 8);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFrameLength, SpdyFrame.MaxLength);
        _stream = stream;
        _maxFrameLength = maxFrameLength;
    }

    /// <summary>The next frame, or null when the stream ends between two frames.</summary>
    /// <exception cref="SpdyProtocolException">The peer sent a frame that breaks the protocol.</exception>
    /// <exception cref="EndOfStreamException">The stream ended inside a frame.</exception>
    public async ValueTask<SpdyFrame?> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (!await ReadFrameHeaderAsync(cancellationToken))
            {
                return null;
            }

            var first = BinaryPrimitives.ReadUInt32BigEndian(_frameHeader);
            var second = BinaryPrimitives.ReadUInt32BigEndian(_frameHeader.AsSpan(4));
            var flags = (byte)(second >> 24);
            var length = (int)(second & SpdyFrame.MaxLength);
            if (length > _maxFrameLength)
            {
                throw new SpdyProtocolException($"A frame of {length} bytes is longer than the {_maxFrameLength} accepted.");
            }

            var payload = length == 0 ? [] : new byte[length];
            await _stream.ReadExactlyAsync(payload, cancellationToken);

            if ((first & ControlBit) == 0)
            {
                var streamId = first & StreamIdMask;
                if (streamId == 0)
                {
                    throw new SpdyProtocolException("A data frame is on stream 0.");
                }

                return new SpdyDataFrame(streamId, payload, (flags & 0x01) != 0);
            }

            var version = (first >> 16) & 0x7FFF;
            if (version != SpdyFrame.Version)
            {
                throw new SpdyProtocolException($"A control frame has version {version}, not {SpdyFrame.Version}.");
            }

            var frame = ParseControlFrame((SpdyFrameType)(first & 0xFFFF), flags, payload);
            if (frame is not null)
            {
                return frame;
            }
        }
    }

    private async ValueTask<bool> ReadFrameHeaderAsync(CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < _frameHeader.Length)
        {
            var read = await _stream.ReadAsync(_frameHeader.AsMemory(filled), cancellationToken);
            if (read == 0)
            {
                return filled == 0 ? false : throw new EndOfStreamException("The stream ended inside a frame header.");
            }

            filled += read;
        }

        return true;
    }

    private SpdyFrame? ParseControlFrame(SpdyFrameType type, byte flags, byte[] payload)
    {
        var span = payload.AsSpan();
        switch (type)
        {
            case SpdyFrameType.SynStream:
                RequireLength(type, span, 10, exact: false);
                return new SpdySynStreamFrame(
                    NonZeroStreamId(type, span),
                    _headers.Decompress(span[10..]),
                    (SpdyControlBits)flags,
                    BinaryPrimitives.ReadUInt32BigEndian(span[4..]) & StreamIdMask,
                    (byte)(span[8] >> 5),
                    span[9]);

            case SpdyFrameType.SynReply:
                RequireLength(type, span, 4, exact: false);
                return new SpdySynReplyFrame(NonZeroStreamId(type, span), _headers.Decompress(span[4..]), (SpdyControlBits)flags);

            case SpdyFrameType.Headers:
                RequireLength(type, span, 4, exact: false);
                return new SpdyHeadersFrame(NonZeroStreamId(type, span), _headers.Decompress(span[4..]), (SpdyControlBits)flags);

            case SpdyFrameType.RstStream:
                RequireLength(type, span, 8, exact: true);
                return new SpdyRstStreamFrame(NonZeroStreamId(type, span), (SpdyStreamStatus)BinaryPrimitives.ReadUInt32BigEndian(span[4..]));

            case SpdyFrameType.Settings:
                return ParseSettings(flags, span);

            case SpdyFrameType.Ping:
                RequireLength(type, span, 4, exact: true);
                return new SpdyPingFrame(BinaryPrimitives.ReadUInt32BigEndian(span));

            case SpdyFrameType.GoAway:
                RequireLength(type, span, 8, exact: true);
                return new SpdyGoAwayFrame(
                    BinaryPrimitives.ReadUInt32BigEndian(span) & StreamIdMask,
                    (SpdyGoAwayStatus)BinaryPrimitives.ReadUInt32BigEndian(span[4..]));

            case SpdyFrameType.WindowUpdate:
                RequireLength(type, span, 8, exact: true);
                return new SpdyWindowUpdateFrame(
                    BinaryPrimitives.ReadUInt32BigEndian(span) & StreamIdMask,
                    BinaryPrimitives.ReadUInt32BigEndian(span[4..]) & 0x7FFFFFFF);

            default:
                return null;
        }
    }

    private static SpdySettingsFrame ParseSettings(byte flags, ReadOnlySpan<byte> span)
    {
        RequireLength(SpdyFrameType.Settings, span, 4, exact: false);
        var count = BinaryPrimitives.ReadUInt32BigEndian(span);
        if (count > (uint)(span.Length - 4) / 8 || span.Length != 4 + (count * 8))
        {
            throw new SpdyProtocolException($"A SETTINGS frame of {span.Length} bytes claims {count} entries.");
        }

        var settings = new SpdySetting[count];
        for (var i = 0; i < settings.Length; i++)
        {
            var entry = span.Slice(4 + (i * 8), 8);
            var idAndFlags = BinaryPrimitives.ReadUInt32BigEndian(entry);
            settings[i] = new SpdySetting((SpdySettingId)(idAndFlags & 0xFFFFFF), BinaryPrimitives.ReadUInt32BigEndian(entry[4..]), (byte)(idAndFlags >> 24));
        }

        return new SpdySettingsFrame(settings, (flags & 0x01) != 0);
    }

    private static void RequireLength(SpdyFrameType type, ReadOnlySpan<byte> payload, int length, bool exact)
    {
        if (exact ? payload.Length != length : payload.Length < length)
        {
            throw new SpdyProtocolException($"A {type} frame has {payload.Length} bytes where it needs {(exact ? string.Empty : "at least ")}{length}.");
        }
    }

    private static uint NonZeroStreamId(SpdyFrameType type, ReadOnlySpan<byte> payload)
    {
        var id = BinaryPrimitives.ReadUInt32BigEndian(payload) & StreamIdMask;
        return id != 0 ? id : throw new SpdyProtocolException($"A {type} frame is on stream 0.");
    }
}
