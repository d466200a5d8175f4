using System.Buffers;
using System.Buffers.Binary;
using Google.Protobuf;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Protocol;

/// <summary>
/// Reads length-prefixed frames from a byte stream. A frame that is too large or does
/// not parse is consumed and reported, so the frames after it are still read.
/// </summary>
public sealed class FrameReader
{
    private readonly Stream _stream;
    private readonly int _maxFrameBytes;
    private readonly byte[] _header = new byte[4];

    private readonly bool _skipTooLarge;

    /// <param name="stream">The byte stream.</param>
    /// <param name="maxFrameBytes">The largest frame taken.</param>
    /// <param name="skipTooLarge">Read past a frame that is too large and go on (CRX, which must outlive a bad host);
    /// false: report it at once without reading it (the host, which closes a guest's channel on it).</param>
    public FrameReader(Stream stream, int maxFrameBytes = CrxProtocol.MaxFrameBytes, bool skipTooLarge = true)
    {
        _stream = stream;
        _maxFrameBytes = maxFrameBytes;
        _skipTooLarge = skipTooLarge;
    }

    public async ValueTask<FrameReadResult> ReadAsync(CancellationToken cancellationToken)
    {
        if (!await FillAsync(_header, cancellationToken))
        {
            return FrameReadResult.End;
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(_header);
        if (length > _maxFrameBytes)
        {
            if (_skipTooLarge && !await SkipAsync(length, cancellationToken))
            {
                return FrameReadResult.End;
            }

            return FrameReadResult.Bad(CrxProtocol.Codes.FrameTooLarge, $"frame of {length} bytes is larger than {_maxFrameBytes}");
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(length, 1));
        try
        {
            if (!await FillAsync(buffer.AsMemory(0, (int)length), cancellationToken))
            {
                return FrameReadResult.End;
            }

            try
            {
                return new FrameReadResult(Frame.Parser.ParseFrom(buffer, 0, (int)length), null, null);
            }
            catch (InvalidProtocolBufferException e)
            {
                return FrameReadResult.Bad(CrxProtocol.Codes.MalformedFrame, e.Message);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async ValueTask<bool> FillAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await _stream.ReadAsync(buffer[filled..], cancellationToken);
            if (read == 0)
            {
                return false;
            }

            filled += read;
        }

        return true;
    }

    private async ValueTask<bool> SkipAsync(long count, CancellationToken cancellationToken)
    {
        var scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (count > 0)
            {
                var read = await _stream.ReadAsync(scratch.AsMemory(0, (int)Math.Min(count, scratch.Length)), cancellationToken);
                if (read == 0)
                {
                    return false;
                }

                count -= read;
            }

            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }
}
