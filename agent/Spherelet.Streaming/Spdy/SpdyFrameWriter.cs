using System.Buffers;
using System.Buffers.Binary;

namespace Spherelet.Streaming.Spdy;

/// <summary>
/// Writes SPDY/3 frames to a stream, one whole frame at a time under one lock, so frames written from many
/// tasks never interleave and header blocks are compressed (through this writer's own
/// <see cref="SpdyHeaderCompressor"/>) in the order their frames go out. A frame write that fails leaves the
/// writer broken: the stream may hold part of a frame, so later writes throw.
/// </summary>
public sealed class SpdyFrameWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly SpdyHeaderCompressor _headers = new();
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly ArrayBufferWriter<byte> _frame = new();
    private readonly ArrayBufferWriter<byte> _payload = new();
    private bool _broken;

    public SpdyFrameWriter(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
    }

    /// <summary>Writes the frame and flushes the stream.</summary>
    /// <param name="frame">The frame.</param>
    /// <param name="cancellationToken">Cancels the wait for the frames before this one; a frame once begun is written whole.</param>
    public async Task WriteAsync(SpdyFrame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            if (_broken)
            {
                throw new IOException("An earlier frame write failed; the stream may hold part of a frame.");
            }

            _frame.ResetWrittenCount();
            Serialize(frame);
            try
            {
                await _stream.WriteAsync(_frame.WrittenMemory, CancellationToken.None);
                await _stream.FlushAsync(CancellationToken.None);
            }
            catch
            {
                _broken = true;
                throw;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose() => _lock.Dispose();

    private void Serialize(SpdyFrame frame)
    {
        switch (frame)
        {
            case SpdyDataFrame data:
                CheckStreamId(data.StreamId);
                if (data.Data.Length > SpdyFrame.MaxLength)
                {
                    throw new ArgumentException($"A data frame holds at most {SpdyFrame.MaxLength} bytes.", nameof(frame));
                }

                WriteUInt32(_frame, data.StreamId);
                WriteUInt32(_frame, ((data.Fin ? 1u : 0u) << 24) | (uint)data.Data.Length);
                _frame.Write(data.Data.Span);
                return;

            case SpdySynStreamFrame syn:
                CheckStreamId(syn.StreamId);
                ArgumentOutOfRangeException.ThrowIfGreaterThan(syn.Priority, (byte)7, nameof(frame));
                _payload.ResetWrittenCount();
                WriteUInt32(_payload, syn.StreamId);
                WriteUInt32(_payload, syn.AssociatedStreamId & SpdyFrame.MaxStreamId);
                _payload.Write([(byte)(syn.Priority << 5), syn.Slot]);
                _headers.Compress(syn.Headers, _payload);
                WriteControl(SpdyFrameType.SynStream, (byte)syn.Flags);
                return;

            case SpdySynReplyFrame reply:
                WriteHeadersControl(SpdyFrameType.SynReply, reply.StreamId, reply.Headers, reply.Flags);
                return;

            case SpdyHeadersFrame headers:
                WriteHeadersControl(SpdyFrameType.Headers, headers.StreamId, headers.Headers, headers.Flags);
                return;

            case SpdyRstStreamFrame rst:
                CheckStreamId(rst.StreamId);
                _payload.ResetWrittenCount();
                WriteUInt32(_payload, rst.StreamId);
                WriteUInt32(_payload, (uint)rst.Status);
                WriteControl(SpdyFrameType.RstStream, 0);
                return;

            case SpdySettingsFrame settings:
                _payload.ResetWrittenCount();
                WriteUInt32(_payload, (uint)settings.Settings.Count);
                foreach (var setting in settings.Settings)
                {
                    WriteUInt32(_payload, ((uint)setting.Flags << 24) | ((uint)setting.Id & 0xFFFFFF));
                    WriteUInt32(_payload, setting.Value);
                }

                WriteControl(SpdyFrameType.Settings, settings.ClearSettings ? (byte)0x01 : (byte)0);
                return;

            case SpdyPingFrame ping:
                _payload.ResetWrittenCount();
                WriteUInt32(_payload, ping.Id);
                WriteControl(SpdyFrameType.Ping, 0);
                return;

            case SpdyGoAwayFrame goAway:
                _payload.ResetWrittenCount();
                WriteUInt32(_payload, goAway.LastGoodStreamId & SpdyFrame.MaxStreamId);
                WriteUInt32(_payload, (uint)goAway.Status);
                WriteControl(SpdyFrameType.GoAway, 0);
                return;

            case SpdyWindowUpdateFrame update:
                ArgumentOutOfRangeException.ThrowIfGreaterThan(update.StreamId, SpdyFrame.MaxStreamId, nameof(frame));
                ArgumentOutOfRangeException.ThrowIfGreaterThan(update.Delta, 0x7FFFFFFFu, nameof(frame));
                _payload.ResetWrittenCount();
                WriteUInt32(_payload, update.StreamId);
                WriteUInt32(_payload, update.Delta);
                WriteControl(SpdyFrameType.WindowUpdate, 0);
                return;

            default:
                throw new ArgumentException($"{frame.GetType().Name} is not a frame this writer knows.", nameof(frame));
        }
    }

    private void WriteHeadersControl(SpdyFrameType type, uint streamId, SpdyHeaders headers, SpdyControlBits flags)
    {
        CheckStreamId(streamId);
        _payload.ResetWrittenCount();
        WriteUInt32(_payload, streamId);
        _headers.Compress(headers, _payload);
        WriteControl(type, (byte)flags);
    }

    private void WriteControl(SpdyFrameType type, byte flags)
    {
        if (_payload.WrittenCount > SpdyFrame.MaxLength)
        {
            throw new InvalidOperationException($"A {type} frame of {_payload.WrittenCount} bytes does not fit the 24-bit length.");
        }

        WriteUInt32(_frame, 0x80000000u | ((uint)SpdyFrame.Version << 16) | (uint)type);
        WriteUInt32(_frame, ((uint)flags << 24) | (uint)_payload.WrittenCount);
        _frame.Write(_payload.WrittenSpan);
    }

    private static void CheckStreamId(uint streamId)
    {
        if (streamId is 0 or > SpdyFrame.MaxStreamId)
        {
            throw new ArgumentOutOfRangeException(nameof(streamId), streamId, "A stream id is 1 to 2^31-1.");
        }
    }

    private static void WriteUInt32(ArrayBufferWriter<byte> output, uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(output.GetSpan(4), value);
        output.Advance(4);
    }
}
