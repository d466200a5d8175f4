using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Spherelet.Streaming.Spdy;

/// <summary>
/// The uncompressed SPDY/3 name/value block: a 32-bit count of pairs, then each name and each value after its
/// 32-bit length (all big-endian), names lowercase, several values of one name joined by NULs.
/// </summary>
internal static class SpdyHeaderBlock
{
    public static void Encode(SpdyHeaders headers, IBufferWriter<byte> output)
    {
        WriteUInt32(output, (uint)headers.Count);
        foreach (var (name, value) in headers)
        {
            WriteString(output, name);
            WriteString(output, value);
        }
    }

    public static SpdyHeaders Decode(ReadOnlySpan<byte> block)
    {
        var headers = new SpdyHeaders();
        var count = ReadUInt32(ref block);

        // Each pair takes at least 8 bytes, so a count the block cannot hold is rejected before the loop.
        if (count > (uint)block.Length / 8)
        {
            throw new SpdyProtocolException($"A header block claims {count} pairs in {block.Length} bytes.");
        }

        for (var i = 0u; i < count; i++)
        {
            var name = ReadString(ref block);
            if (name.Length == 0)
            {
                throw new SpdyProtocolException("A header block has an empty name.");
            }

            var value = ReadString(ref block);
            headers.Add(name, value);
        }

        if (!block.IsEmpty)
        {
            throw new SpdyProtocolException($"A header block has {block.Length} bytes after its last pair.");
        }

        return headers;
    }

    private static void WriteUInt32(IBufferWriter<byte> output, uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(output.GetSpan(4), value);
        output.Advance(4);
    }

    private static void WriteString(IBufferWriter<byte> output, string value)
    {
        var length = Encoding.UTF8.GetByteCount(value);
        WriteUInt32(output, (uint)length);
        Encoding.UTF8.GetBytes(value, output);
    }

    private static uint ReadUInt32(ref ReadOnlySpan<byte> block)
    {
        if (block.Length < 4)
        {
            throw new SpdyProtocolException("A header block ends inside a length.");
        }

        var value = BinaryPrimitives.ReadUInt32BigEndian(block);
        block = block[4..];
        return value;
    }

    private static string ReadString(ref ReadOnlySpan<byte> block)
    {
        var length = ReadUInt32(ref block);
        if (length > (uint)block.Length)
        {
            throw new SpdyProtocolException($"A header block has a string of {length} bytes where {block.Length} are left.");
        }

        var value = Encoding.UTF8.GetString(block[..(int)length]);
        block = block[(int)length..];
        return value;
    }
}
