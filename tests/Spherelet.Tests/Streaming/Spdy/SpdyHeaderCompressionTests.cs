using System.Buffers.Binary;
using System.Text;
using ICSharpCode.SharpZipLib.Zip.Compression;
using Spherelet.Streaming.Spdy;

namespace Spherelet.Tests.Streaming.Spdy;

public sealed class SpdyHeaderCompressionTests
{
    // Made by CPython's zlib (level 6, the SPDY/3 dictionary, Z_SYNC_FLUSH after each block) on one stream:
    // streamtype=data, port=8080, requestid=0; then streamtype=error with the same port and requestid.
    private const string ZlibFirstBlock = "78bbe3c6a7c202253a703a2b294a4dcc452a4a1221a572113803581858180069ce22482c66825237a301000000ffff";
    private const string ZlibSecondBlock = "c2aa9735151449843503000000ffff";

    // Adler-32 of the 1423-byte SPDY/3 dictionary, computed by zlib over the dictionary as moby/spdystream holds it.
    private const uint DictionaryAdler32 = 0xE3C6A7C2;

    private static readonly byte[] SyncFlushMarker = [0x00, 0x00, 0xFF, 0xFF];

    [Fact]
    public void Blocks_compressed_by_zlib_with_the_dictionary_decompress_one_after_another_on_one_context()
    {
        var decompressor = new SpdyHeaderDecompressor();

        var first = decompressor.Decompress(Convert.FromHexString(ZlibFirstBlock));
        var second = decompressor.Decompress(Convert.FromHexString(ZlibSecondBlock));

        Assert.Equal([new("streamtype", "data"), new("port", "8080"), new("requestid", "0")], first.ToList());
        Assert.Equal([new("streamtype", "error"), new("port", "8080"), new("requestid", "0")], second.ToList());
    }

    [Fact]
    public void The_second_zlib_block_cannot_be_read_without_the_context_of_the_first()
    {
        var fresh = new SpdyHeaderDecompressor();

        Assert.Throws<SpdyProtocolException>(() => fresh.Decompress(Convert.FromHexString(ZlibSecondBlock)));
    }

    [Fact]
    public void The_first_block_names_the_spdy3_dictionary_in_its_zlib_header()
    {
        var block = new SpdyHeaderCompressor().Compress(new SpdyHeaders { { "streamtype", "data" } });

        // Deflate with a 32 KiB window, preset dictionary flag, and the dictionary's checksum.
        Assert.Equal([0x78, 0xBB], block[..2]);
        Assert.Equal(DictionaryAdler32, BinaryPrimitives.ReadUInt32BigEndian(block.AsSpan(2)));
    }

    [Fact]
    public void Every_block_ends_with_a_sync_flush_and_later_blocks_have_no_zlib_header()
    {
        var compressor = new SpdyHeaderCompressor();
        var headers = new SpdyHeaders { { "streamtype", "stdout" } };

        var first = compressor.Compress(headers);
        var second = compressor.Compress(headers);

        Assert.Equal(SyncFlushMarker, first[^4..]);
        Assert.Equal(SyncFlushMarker, second[^4..]);
        Assert.NotEqual(0x78, second[0]);
    }

    [Fact]
    public void Headers_round_trip_across_several_blocks_on_one_context()
    {
        var compressor = new SpdyHeaderCompressor();
        var decompressor = new SpdyHeaderDecompressor();
        var blocks = new[]
        {
            new SpdyHeaders { { "streamtype", "error" }, { "requestid", "0" } },
            new SpdyHeaders { { "streamtype", "stdin" }, { "requestid", "0" } },
            new SpdyHeaders { { "streamtype", "data" }, { "port", "8080" }, { "requestid", "1" } },
            [],
            new SpdyHeaders { { "x-long", new string('v', 70_000) } },
            new SpdyHeaders { { "streamtype", "resize" }, { "requestid", "0" } },
        };

        foreach (var headers in blocks)
        {
            var decoded = decompressor.Decompress(compressor.Compress(headers));
            Assert.Equal(headers.ToList(), decoded.ToList());
        }
    }

    [Fact]
    public void A_block_repeated_on_the_same_context_compresses_to_back_references()
    {
        var compressor = new SpdyHeaderCompressor();
        var headers = new SpdyHeaders { { "streamtype", "data" }, { "port", "8080" }, { "requestid", "12345678" } };

        var first = compressor.Compress(headers);
        var repeat = compressor.Compress(headers);

        // A reset context would spend as much on the repeat as on the first block, less its 6 header bytes.
        Assert.True(repeat.Length < first.Length - 10, $"the repeat took {repeat.Length} bytes, the first {first.Length}");
    }

    [Fact]
    public void Blocks_from_a_separate_dictionary_primed_deflater_decompress()
    {
        // SharpZipLib's high-level Deflater flushes with zlib's older partial flush (empty static blocks) rather
        // than a sync flush: every block must still come out whole.
        var deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
        deflater.SetDictionary(DictionaryBytes());
        var decompressor = new SpdyHeaderDecompressor();

        foreach (var value in new[] { "stdin", "stdout", "stderr" })
        {
            var block = Deflate(deflater, RawBlock(("streamtype", value), ("requestid", "7")));
            var decoded = decompressor.Decompress(block);
            Assert.Equal([new("streamtype", value), new("requestid", "7")], decoded.ToList());
        }
    }

    [Fact]
    public void Blocks_of_the_compressor_inflate_with_a_separate_dictionary_primed_inflater()
    {
        var compressor = new SpdyHeaderCompressor();
        var inflater = new Inflater();
        foreach (var value in new[] { "stdin", "stdout", "stderr" })
        {
            inflater.SetInput(compressor.Compress(new SpdyHeaders { { "streamtype", value } }));
            var output = new byte[1024];
            var length = inflater.Inflate(output);
            if (length == 0 && inflater.IsNeedingDictionary)
            {
                inflater.SetDictionary(DictionaryBytes());
                length = inflater.Inflate(output);
            }

            Assert.Equal(RawBlock(("streamtype", value)), output[..length]);
            Assert.True(inflater.IsNeedingInput);
        }
    }

    [Fact]
    public void Names_are_lowercased_and_several_values_of_a_name_are_joined_by_nul()
    {
        var headers = new SpdyHeaders { { "StreamType", "data" }, { "Accept", "a" }, { "accept", "b" } };
        var inflater = new Inflater();
        inflater.SetInput(new SpdyHeaderCompressor().Compress(headers));
        var output = new byte[1024];
        inflater.Inflate(output);
        inflater.SetDictionary(DictionaryBytes());
        var length = inflater.Inflate(output);

        Assert.Equal(RawBlock(("streamtype", "data"), ("accept", "a\0b")), output[..length]);
        Assert.Equal("data", headers["STREAMTYPE"]);
        Assert.Equal("a", headers["accept"]);
        Assert.Equal(["a", "b"], headers.GetValues("accept"));
        Assert.Null(headers["port"]);
    }

    [Fact]
    public void A_block_that_is_not_zlib_is_a_protocol_error()
    {
        Assert.Throws<SpdyProtocolException>(() => new SpdyHeaderDecompressor().Decompress([0x12, 0x34, 0x56, 0x78, 0x9a]));
    }

    [Fact]
    public void A_block_whose_pairs_overrun_it_is_a_protocol_error()
    {
        var deflater = new Deflater();
        deflater.SetDictionary(DictionaryBytes());
        var lying = RawBlock(("streamtype", "data"));
        lying[3] = 2;

        Assert.Throws<SpdyProtocolException>(() => new SpdyHeaderDecompressor().Decompress(Deflate(deflater, lying)));
    }

    /// <summary>
    /// The SPDY/3 dictionary, rebuilt here from the spec's layout and checked against the checksum zlib computed
    /// over an independent copy; the compressor's own copy is internal.
    /// </summary>
    private static byte[] DictionaryBytes()
    {
        string[] names =
        [
            "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset", "accept-encoding",
            "accept-language", "accept-ranges", "age", "allow", "authorization", "cache-control", "connection",
            "content-base", "content-encoding", "content-language", "content-length", "content-location", "content-md5",
            "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host", "if-match",
            "if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "location",
            "max-forwards", "pragma", "proxy-authenticate", "proxy-authorization", "range", "referer", "retry-after",
            "server", "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
            "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url", "public",
            "set-cookie", "keep-alive", "origin",
        ];
        var bytes = new List<byte>();
        foreach (var name in names)
        {
            bytes.AddRange([0, 0, 0, (byte)name.Length]);
            bytes.AddRange(Encoding.ASCII.GetBytes(name));
        }

        bytes.AddRange(Encoding.ASCII.GetBytes(
            "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505" +
            "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized" +
            "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable" +
            "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT" +
            "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain," +
            "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."));
        Assert.Equal(1423, bytes.Count);
        return [.. bytes];
    }

    private static byte[] RawBlock(params (string Name, string Value)[] pairs)
    {
        var bytes = new List<byte>();
        void Add(byte[] value)
        {
            var length = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, value.Length);
            bytes.AddRange(length);
            bytes.AddRange(value);
        }

        var count = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(count, pairs.Length);
        bytes.AddRange(count);
        foreach (var (name, value) in pairs)
        {
            Add(Encoding.UTF8.GetBytes(name));
            Add(Encoding.UTF8.GetBytes(value));
        }

        return [.. bytes];
    }

    private static byte[] Deflate(Deflater deflater, byte[] block)
    {
        deflater.SetInput(block);
        deflater.Flush();
        var output = new MemoryStream();
        var chunk = new byte[256];
        int count;
        while ((count = deflater.Deflate(chunk)) > 0)
        {
            output.Write(chunk, 0, count);
        }

        return output.ToArray();
    }
}
