using System.Buffers;

namespace Spherelet.Agent.Transport;

/// <summary>
/// Rewrites the <c>:authority</c> of an HTTP/2 header block when it is not a valid host,
/// which is what gRPC clients written in Go send over a Unix socket: the socket's path
/// (<c>/run/spherelet/spherelet.sock</c>). Kestrel resets such streams with PROTOCOL_ERROR
/// (dotnet/aspnetcore#18522). Each character that may not stand in a host becomes '-',
/// so the value keeps its length and the client's and the server's HPACK dynamic tables
/// keep the same sizes, and so stay in step for later, indexed references to it.
/// </summary>
internal static class HpackAuthorityRewriter
{
    /// <summary>The static-table index of <c>:authority</c> (RFC 7541, Appendix A).</summary>
    private const int AuthorityIndex = 1;

    /// <summary>
    /// The header block with every invalid literal <c>:authority</c> value made valid, or
    /// null when nothing needed to change (or the block is malformed: Kestrel rejects it then).
    /// </summary>
    public static byte[]? Rewrite(ReadOnlySpan<byte> block)
    {
        var output = new ArrayBufferWriter<byte>(block.Length + 16);
        var changed = false;
        var position = 0;
        while (position < block.Length)
        {
            var start = position;
            var first = block[position];
            int prefixBits;
            if ((first & 0x80) != 0)
            {
                // Indexed field: a reference into the tables, nothing to rewrite.
                if (!TryReadInteger(block, ref position, 7, out _))
                {
                    return null;
                }

                output.Write(block[start..position]);
                continue;
            }

            if ((first & 0xE0) == 0x20)
            {
                // Dynamic table size update.
                if (!TryReadInteger(block, ref position, 5, out _))
                {
                    return null;
                }

                output.Write(block[start..position]);
                continue;
            }

            // Literal: with incremental indexing (01), without indexing (0000) or never indexed (0001).
            prefixBits = (first & 0xC0) == 0x40 ? 6 : 4;
            if (!TryReadInteger(block, ref position, prefixBits, out var nameIndex))
            {
                return null;
            }

            bool isAuthority;
            if (nameIndex == 0)
            {
                if (!TryReadString(block, ref position, out var name))
                {
                    return null;
                }

                isAuthority = name.AsSpan().SequenceEqual(":authority"u8);
            }
            else
            {
                isAuthority = nameIndex == AuthorityIndex;
            }

            var valueStart = position;
            if (!TryReadString(block, ref position, out var value))
            {
                return null;
            }

            if (isAuthority && !IsValidHost(value))
            {
                output.Write(block[start..valueStart]);
                WriteRawString(output, MakeValidHost(value));
                changed = true;
            }
            else
            {
                output.Write(block[start..position]);
            }
        }

        return changed ? output.WrittenSpan.ToArray() : null;
    }

    /// <summary>Host characters: unreserved, sub-delims, ':' for a port, '[' ']' for IPv6 (RFC 3986).</summary>
    public static bool IsValidHostCharacter(byte c) =>
        c is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
            or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~' or (byte)':' or (byte)'[' or (byte)']'
            or (byte)'!' or (byte)'$' or (byte)'&' or (byte)'\'' or (byte)'(' or (byte)')' or (byte)'*'
            or (byte)'+' or (byte)',' or (byte)';' or (byte)'=';

    private static bool IsValidHost(byte[] value) => value.Length > 0 && value.All(IsValidHostCharacter);

    private static byte[] MakeValidHost(byte[] value)
    {
        if (value.Length == 0)
        {
            return "localhost"u8.ToArray();
        }

        var host = new byte[value.Length];
        for (var i = 0; i < value.Length; i++)
        {
            host[i] = IsValidHostCharacter(value[i]) && value[i] is not ((byte)'[' or (byte)']' or (byte)':') ? value[i] : (byte)'-';
        }

        return host;
    }

    private static bool TryReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits, out int value)
    {
        var mask = (1 << prefixBits) - 1;
        value = block[position++] & mask;
        if (value < mask)
        {
            return true;
        }

        var shift = 0;
        while (position < block.Length)
        {
            var octet = block[position++];
            value += (octet & 0x7F) << shift;
            if ((octet & 0x80) == 0)
            {
                return value >= 0;
            }

            shift += 7;
            if (shift > 21)
            {
                return false;
            }
        }

        return false;
    }

    private static bool TryReadString(ReadOnlySpan<byte> block, ref int position, out byte[] value)
    {
        value = [];
        if (position >= block.Length)
        {
            return false;
        }

        var huffman = (block[position] & 0x80) != 0;
        if (!TryReadInteger(block, ref position, 7, out var length) || length > block.Length - position)
        {
            return false;
        }

        var raw = block.Slice(position, length);
        position += length;
        if (!huffman)
        {
            value = raw.ToArray();
            return true;
        }

        var decoded = HpackHuffman.Decode(raw);
        if (decoded is null)
        {
            return false;
        }

        value = decoded;
        return true;
    }

    private static void WriteRawString(ArrayBufferWriter<byte> output, byte[] value)
    {
        WriteInteger(output, value.Length, 7, 0x00);
        output.Write(value);
    }

    private static void WriteInteger(ArrayBufferWriter<byte> output, int value, int prefixBits, byte flags)
    {
        var mask = (1 << prefixBits) - 1;
        if (value < mask)
        {
            output.Write([(byte)(flags | value)]);
            return;
        }

        var bytes = new List<byte> { (byte)(flags | mask) };
        value -= mask;
        while (value >= 0x80)
        {
            bytes.Add((byte)((value & 0x7F) | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        output.Write(bytes.ToArray());
    }
}
