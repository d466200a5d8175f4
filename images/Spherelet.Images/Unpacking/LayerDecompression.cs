using System.IO.Compression;
using ZstdSharp;

namespace Spherelet.Images.Unpacking;

/// <summary>
/// Opens a layer blob as a tar stream, whatever its media type says: gzip and zstd are
/// recognized by their magic bytes, anything else is read as an uncompressed tar.
/// </summary>
internal static class LayerDecompression
{
    private static readonly byte[] GzipMagic = [0x1F, 0x8B];
    private static readonly byte[] ZstdMagic = [0x28, 0xB5, 0x2F, 0xFD];
    private static readonly byte[] XzMagic = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00];

    /// <summary>The tar stream of <paramref name="layer"/>; disposing it leaves <paramref name="layer"/> open.</summary>
    /// <exception cref="ImageException">Invalid: a compression Spherelet does not read (xz).</exception>
    public static async Task<Stream> OpenAsync(Stream layer, CancellationToken cancellationToken)
    {
        var prefix = new byte[XzMagic.Length];
        var read = 0;
        while (read < prefix.Length)
        {
            var n = await layer.ReadAsync(prefix.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        var head = prefix.AsSpan(0, read);
        Stream stream = new PrefixedStream(prefix[..read], layer);
        if (head.StartsWith(GzipMagic))
        {
            return new GZipStream(stream, CompressionMode.Decompress, leaveOpen: false);
        }

        if (head.StartsWith(ZstdMagic))
        {
            return new DecompressionStream(stream, checkEndOfStream: true, leaveOpen: false);
        }

        if (head.StartsWith(XzMagic))
        {
            throw new ImageException(ImageErrorKind.Invalid, "the layer is xz-compressed; only gzip, zstd and uncompressed tar layers are supported");
        }

        return stream;
    }
}
