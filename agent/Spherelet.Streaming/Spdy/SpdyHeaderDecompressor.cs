using System.Buffers;
using ICSharpCode.SharpZipLib;
using ICSharpCode.SharpZipLib.Zip.Compression;

namespace Spherelet.Streaming.Spdy;

/// <summary>
/// The header decompression of one direction of a SPDY/3 session: one zlib inflater, primed with the SPDY/3
/// dictionary when the stream asks for it, that keeps its state from block to block. Not thread-safe: the
/// frame reader calls it in frame order.
/// </summary>
public sealed class SpdyHeaderDecompressor
{
    /// <summary>The largest header block accepted once inflated.</summary>
    public const int MaxBlockLength = 1 << 20;

    private readonly Inflater _inflater = new(noHeader: false);
    private readonly ArrayBufferWriter<byte> _block = new();
    private readonly byte[] _chunk = new byte[4096];

    /// <summary>The headers of one compressed block (the header block field of one frame).</summary>
    /// <exception cref="SpdyProtocolException">The block is not a valid continuation of the stream, or not a valid name/value block.</exception>
    public SpdyHeaders Decompress(ReadOnlySpan<byte> compressed)
    {
        _block.ResetWrittenCount();
        try
        {
            _inflater.SetInput(compressed.ToArray());
            while (true)
            {
                var count = _inflater.Inflate(_chunk);
                if (count > 0)
                {
                    if (_block.WrittenCount + count > MaxBlockLength)
                    {
                        throw new SpdyProtocolException($"A header block inflates to more than {MaxBlockLength} bytes.");
                    }

                    _block.Write(_chunk.AsSpan(0, count));
                }
                else if (_inflater.IsNeedingDictionary)
                {
                    _inflater.SetDictionary(SpdyHeaderDictionary.Bytes);
                }
                else if (_inflater.IsFinished)
                {
                    throw new SpdyProtocolException("The peer ended its header compression stream.");
                }
                else
                {
                    // Everything the frame carried is inflated.
                    break;
                }
            }
        }
        catch (SharpZipBaseException e)
        {
            throw new SpdyProtocolException("A header block does not inflate: " + e.Message, e);
        }

        return SpdyHeaderBlock.Decode(_block.WrittenSpan);
    }
}
