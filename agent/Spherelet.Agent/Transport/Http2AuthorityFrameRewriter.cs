using System.Buffers;
using System.Buffers.Binary;

namespace Spherelet.Agent.Transport;

/// <summary>
/// Reads the client side of one HTTP/2 connection (prior knowledge: preface, then frames)
/// and passes it on unchanged, except header blocks (HEADERS plus CONTINUATION frames),
/// which go through <see cref="HpackAuthorityRewriter"/> and are sent on as one HEADERS
/// frame (split into CONTINUATION frames when larger than the frame size limit).
/// Padding on a rewritten HEADERS frame is dropped; priority data is kept.
/// </summary>
internal sealed class Http2AuthorityFrameRewriter
{
    public const int PrefaceLength = 24;
    private const int FrameHeaderLength = 9;
    private const byte TypeHeaders = 0x1;
    private const byte TypeContinuation = 0x9;
    private const byte FlagEndHeaders = 0x4;
    private const byte FlagPadded = 0x8;
    private const byte FlagPriority = 0x20;

    private readonly int _maxFrameSize;
    private bool _prefaceDone;
    private PendingBlock? _pending;

    /// <param name="maxFrameSize">The largest frame payload the server accepts (Kestrel's default is 16 KiB).</param>
    public Http2AuthorityFrameRewriter(int maxFrameSize = 16 * 1024)
    {
        _maxFrameSize = maxFrameSize;
    }

    /// <summary>
    /// Consumes as many whole units (the preface, whole frames) as <paramref name="input"/>
    /// holds, writes what to pass on to <paramref name="output"/>, and returns how many
    /// bytes were consumed; the rest must be offered again with more data.
    /// </summary>
    public long Process(ReadOnlySequence<byte> input, IBufferWriter<byte> output)
    {
        var reader = new SequenceReader<byte>(input);
        if (!_prefaceDone)
        {
            if (reader.Remaining < PrefaceLength)
            {
                return 0;
            }

            Copy(ref reader, PrefaceLength, output);
            _prefaceDone = true;
        }

        Span<byte> header = stackalloc byte[FrameHeaderLength];
        while (reader.Remaining >= FrameHeaderLength)
        {
            reader.TryCopyTo(header);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            if (reader.Remaining < FrameHeaderLength + length)
            {
                break;
            }

            var type = header[3];
            var flags = header[4];
            var streamId = BinaryPrimitives.ReadUInt32BigEndian(header[5..]) & 0x7FFFFFFF;
            if (type == TypeHeaders && _pending is null)
            {
                reader.Advance(FrameHeaderLength);
                var payload = reader.UnreadSequence.Slice(0, length).ToArray();
                reader.Advance(length);
                if (!TryStartBlock(flags, streamId, payload, header, output))
                {
                    continue;
                }
            }
            else if (type == TypeContinuation && _pending is { } pending && pending.StreamId == streamId)
            {
                reader.Advance(FrameHeaderLength);
                pending.Fragments.Write(reader.UnreadSequence.Slice(0, length).ToArray());
                pending.RawFrames.Write(header);
                pending.RawFrames.Write(reader.UnreadSequence.Slice(0, length).ToArray());
                reader.Advance(length);
                if ((flags & FlagEndHeaders) != 0)
                {
                    FinishBlock(output);
                }
            }
            else
            {
                // Any other frame (or a protocol error that Kestrel will report) passes as it is.
                if (_pending is not null)
                {
                    FlushPendingUnchanged(output);
                }

                Copy(ref reader, FrameHeaderLength + length, output);
            }
        }

        return reader.Consumed;
    }

    private bool TryStartBlock(byte flags, uint streamId, byte[] payload, ReadOnlySpan<byte> header, IBufferWriter<byte> output)
    {
        var offset = 0;
        var padding = 0;
        if ((flags & FlagPadded) != 0)
        {
            if (payload.Length < 1)
            {
                WriteFrame(output, header, payload);
                return false;
            }

            padding = payload[0];
            offset = 1;
        }

        var priority = Array.Empty<byte>();
        if ((flags & FlagPriority) != 0)
        {
            if (payload.Length < offset + 5)
            {
                WriteFrame(output, header, payload);
                return false;
            }

            priority = payload[offset..(offset + 5)];
            offset += 5;
        }

        if (payload.Length - offset < padding)
        {
            WriteFrame(output, header, payload);
            return false;
        }

        var pending = new PendingBlock(streamId, (byte)(flags & ~FlagPadded), priority);
        pending.Fragments.Write(payload.AsSpan(offset, payload.Length - offset - padding));
        pending.RawFrames.Write(header);
        pending.RawFrames.Write(payload);
        _pending = pending;
        if ((flags & FlagEndHeaders) != 0)
        {
            FinishBlock(output);
        }

        return true;
    }

    private void FinishBlock(IBufferWriter<byte> output)
    {
        var pending = _pending!;
        _pending = null;
        var rewritten = HpackAuthorityRewriter.Rewrite(pending.Fragments.WrittenSpan);
        if (rewritten is null)
        {
            output.Write(pending.RawFrames.WrittenSpan);
            return;
        }

        var block = new byte[pending.Priority.Length + rewritten.Length];
        pending.Priority.CopyTo(block, 0);
        rewritten.CopyTo(block, pending.Priority.Length);

        var first = Math.Min(block.Length, _maxFrameSize);
        var flags = (byte)(pending.Flags & ~FlagEndHeaders);
        if (first == block.Length)
        {
            flags |= FlagEndHeaders;
        }

        WriteFrame(output, TypeHeaders, flags, pending.StreamId, block.AsSpan(0, first));
        for (var offset = first; offset < block.Length; offset += _maxFrameSize)
        {
            var size = Math.Min(_maxFrameSize, block.Length - offset);
            var last = offset + size == block.Length;
            WriteFrame(output, TypeContinuation, last ? FlagEndHeaders : (byte)0, pending.StreamId, block.AsSpan(offset, size));
        }
    }

    private void FlushPendingUnchanged(IBufferWriter<byte> output)
    {
        output.Write(_pending!.RawFrames.WrittenSpan);
        _pending = null;
    }

    private static void WriteFrame(IBufferWriter<byte> output, ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        output.Write(header);
        output.Write(payload);
    }

    private static void WriteFrame(IBufferWriter<byte> output, byte type, byte flags, uint streamId, ReadOnlySpan<byte> payload)
    {
        Span<byte> header = stackalloc byte[FrameHeaderLength];
        header[0] = (byte)(payload.Length >> 16);
        header[1] = (byte)(payload.Length >> 8);
        header[2] = (byte)payload.Length;
        header[3] = type;
        header[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(header[5..], streamId);
        output.Write(header);
        output.Write(payload);
    }

    private static void Copy(ref SequenceReader<byte> reader, long count, IBufferWriter<byte> output)
    {
        foreach (var segment in reader.UnreadSequence.Slice(0, count))
        {
            output.Write(segment.Span);
        }

        reader.Advance(count);
    }

    private sealed class PendingBlock(uint streamId, byte flags, byte[] priority)
    {
        public uint StreamId { get; } = streamId;

        public byte Flags { get; } = flags;

        public byte[] Priority { get; } = priority;

        public ArrayBufferWriter<byte> Fragments { get; } = new();

        public ArrayBufferWriter<byte> RawFrames { get; } = new();
    }
}
