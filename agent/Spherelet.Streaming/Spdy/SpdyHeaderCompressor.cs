using System.Buffers;
using System.Buffers.Binary;
using ICSharpCode.SharpZipLib.Zip.Compression;

namespace Spherelet.Streaming.Spdy;

/// <summary>
/// The header compression of one direction of a SPDY/3 session: one zlib stream primed with the SPDY/3
/// dictionary, shared by every header block the direction sends. Each block ends with a SYNC_FLUSH (an empty
/// stored block, 00 00 ff ff), so the receiver can inflate the whole block from its frame alone; the stream
/// is never reset or finished. Not thread-safe: the frame writer calls it under its lock, in frame order.
/// </summary>
public sealed class SpdyHeaderCompressor
{
    // CMF: deflate with a 32 KiB window; FLG: default level, preset dictionary, check bits making CMF·FLG a multiple of 31.
    private const byte ZlibCmf = 0x78;
    private const byte ZlibFlg = 0xBB;

    private readonly DeflaterPending _pending = new();
    private readonly DeflaterEngine _engine;
    private readonly DeflaterHuffman _syncMarker;
    private readonly ArrayBufferWriter<byte> _block = new();
    private readonly byte[] _chunk = new byte[4096];
    private bool _started;

    /// <param name="level">The zlib level, 1 (fast) to 9 (small).</param>
    public SpdyHeaderCompressor(int level = 6)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(level, 9);
        _engine = new DeflaterEngine(_pending, noAdlerCalculation: true);
        _engine.SetLevel(level);
        _engine.Reset();
        var dictionary = SpdyHeaderDictionary.Bytes;
        _engine.SetDictionary(dictionary, 0, dictionary.Length);

        // Writes the empty stored block of a sync flush into the same bit stream; it has no state of its own that matters.
        _syncMarker = new DeflaterHuffman(_pending);
    }

    /// <summary>The compressed block of the headers, continuing this direction's zlib stream.</summary>
    public byte[] Compress(SpdyHeaders headers)
    {
        var output = new ArrayBufferWriter<byte>();
        Compress(headers, output);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Writes the compressed block of the headers to <paramref name="output"/>.</summary>
    public void Compress(SpdyHeaders headers, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(output);
        if (!_started)
        {
            var header = output.GetSpan(6);
            header[0] = ZlibCmf;
            header[1] = ZlibFlg;
            BinaryPrimitives.WriteUInt32BigEndian(header[2..], SpdyHeaderDictionary.Adler32);
            output.Advance(6);
            _started = true;
        }

        _block.ResetWrittenCount();
        SpdyHeaderBlock.Encode(headers, _block);
        var input = _block.WrittenSpan.ToArray();
        _engine.SetInput(input, 0, input.Length);
        while (true)
        {
            var progress = _engine.Deflate(flush: true, finish: false);
            Drain(output);
            if (!progress && _engine.NeedsInput())
            {
                break;
            }
        }

        _syncMarker.FlushStoredBlock([], 0, 0, lastBlock: false);
        Drain(output);
    }

    private void Drain(IBufferWriter<byte> output)
    {
        int count;
        while ((count = _pending.Flush(_chunk, 0, _chunk.Length)) > 0)
        {
            output.Write(_chunk.AsSpan(0, count));
        }
    }
}
