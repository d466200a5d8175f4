namespace Spherelet.Agent.Transport;

/// <summary>Decodes HPACK Huffman-coded strings (RFC 7541, section 5.2).</summary>
internal static class HpackHuffman
{
    // (length << 32 | code) -> symbol, built once from the RFC table.
    private static readonly Dictionary<ulong, int> Symbols = BuildSymbols();

    /// <summary>The decoded octets, or null when the input is not valid Huffman code.</summary>
    public static byte[]? Decode(ReadOnlySpan<byte> encoded)
    {
        var output = new List<byte>(encoded.Length * 8 / 5);
        ulong code = 0;
        var length = 0;
        foreach (var octet in encoded)
        {
            for (var bit = 7; bit >= 0; bit--)
            {
                code = (code << 1) | (uint)((octet >> bit) & 1);
                length++;
                if (length >= 5 && Symbols.TryGetValue(((ulong)length << 32) | code, out var symbol))
                {
                    if (symbol == 256)
                    {
                        return null; // EOS inside a string is an error.
                    }

                    output.Add((byte)symbol);
                    code = 0;
                    length = 0;
                }
                else if (length > 30)
                {
                    return null;
                }
            }
        }

        // Padding: fewer than 8 bits, all ones (the start of EOS).
        var padding = (1UL << length) - 1;
        return length < 8 && code == padding ? output.ToArray() : null;
    }

    private static Dictionary<ulong, int> BuildSymbols()
    {
        var symbols = new Dictionary<ulong, int>(HpackHuffmanTable.Codes.Length);
        for (var symbol = 0; symbol < HpackHuffmanTable.Codes.Length; symbol++)
        {
            symbols[((ulong)HpackHuffmanTable.Lengths[symbol] << 32) | HpackHuffmanTable.Codes[symbol]] = symbol;
        }

        return symbols;
    }
}
