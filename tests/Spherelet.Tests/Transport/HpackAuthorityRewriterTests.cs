using Spherelet.Agent.Transport;

namespace Spherelet.Tests.Transport;

/// <summary>
/// Header blocks below were made by an independent HPACK encoder (Python's hpack, with
/// Huffman coding, as Go's gRPC sends them) for a CRI Version call over a Unix socket.
/// </summary>
public sealed class HpackAuthorityRewriterTests
{
    private const string GoStyleBlock =
        "8386449962cb6a49a92afdc2bedb6a49a92ee2d9dcc42b1c4b620c7abf419562cb6a6115ce5b0b4152c22b9cb61682a5741c9d7f5f8b1d75d0620d263d4c4d65644082497f864d833505b11f";

    // The same block with :authority as the raw literal "-run-spherelet-spherelet.sock",
    // checked by decoding it with the same independent decoder.
    private const string RewrittenBlock =
        "8386449962cb6a49a92afdc2bedb6a49a92ee2d9dcc42b1c4b620c7abf411d2d72756e2d7370686572656c65742d7370686572656c65742e736f636b5f8b1d75d0620d263d4c4d65644082497f864d833505b11f";

    [Fact]
    public void Huffman_coded_socket_path_authority_becomes_a_valid_host_of_the_same_length()
    {
        var rewritten = HpackAuthorityRewriter.Rewrite(Convert.FromHexString(GoStyleBlock));

        Assert.NotNull(rewritten);
        Assert.Equal(RewrittenBlock, Convert.ToHexStringLower(rewritten));
    }

    [Fact]
    public void Block_whose_fields_are_all_indexed_is_left_alone()
    {
        // The second call on the connection: every field refers to the dynamic table.
        Assert.Null(HpackAuthorityRewriter.Rewrite(Convert.FromHexString("8386c1c0bfbe")));
    }

    [Fact]
    public void Valid_authority_is_left_alone()
    {
        // Literal without indexing, name index 1 (:authority), raw "localhost".
        var block = new byte[] { 0x01, 0x09 }.Concat("localhost"u8.ToArray()).ToArray();
        Assert.Null(HpackAuthorityRewriter.Rewrite(block));
    }

    [Fact]
    public void Raw_literal_authority_with_a_literal_name_is_rewritten()
    {
        var name = ":authority"u8.ToArray();
        var value = "/tmp/x.sock"u8.ToArray();
        var block = new byte[] { 0x00, (byte)name.Length }.Concat(name).Append((byte)value.Length).Concat(value).ToArray();

        var rewritten = HpackAuthorityRewriter.Rewrite(block);

        var expected = new byte[] { 0x00, (byte)name.Length }.Concat(name).Append((byte)value.Length).Concat("-tmp-x.sock"u8.ToArray());
        Assert.Equal(expected, rewritten);
    }

    [Fact]
    public void Truncated_block_is_left_for_kestrel_to_reject()
    {
        Assert.Null(HpackAuthorityRewriter.Rewrite(Convert.FromHexString("419562cb6a")));
    }

    [Fact]
    public void Huffman_decoder_reads_the_rfc7541_example()
    {
        // RFC 7541, C.4.1: "www.example.com".
        var decoded = HpackHuffman.Decode(Convert.FromHexString("f1e3c2e5f23a6ba0ab90f4ff"));
        Assert.Equal("www.example.com"u8.ToArray(), decoded);
    }

    [Fact]
    public void Huffman_decoder_refuses_bad_padding()
    {
        // "w" (1111000) followed by a zero bit instead of the all-ones padding.
        Assert.Null(HpackHuffman.Decode([0xF0]));
    }
}
