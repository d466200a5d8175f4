using System.Buffers;
using System.Text;
using Spherelet.Agent.Transport;

namespace Spherelet.Tests.Transport;

public sealed class Http2AuthorityFrameRewriterTests
{
    private static readonly byte[] Preface = Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    private static readonly byte[] GoBlock = Convert.FromHexString(
        "8386449962cb6a49a92afdc2bedb6a49a92ee2d9dcc42b1c4b620c7abf419562cb6a6115ce5b0b4152c22b9cb61682a5741c9d7f5f8b1d75d0620d263d4c4d65644082497f864d833505b11f");

    [Fact]
    public void Headers_split_over_continuation_and_padded_are_rewritten_into_one_frame()
    {
        var settings = Frame(0x4, 0, 0, []);
        var headers = Frame(0x1, 0x8, 1, [.. new byte[] { 3 }, .. GoBlock[..20], 0, 0, 0]); // PADDED, 3 bytes padding, no END_HEADERS
        var continuation = Frame(0x9, 0x4, 1, GoBlock[20..]);
        var data = Frame(0x0, 0x1, 1, [0, 0, 0, 0, 0]);
        var input = Concat(Preface, settings, headers, continuation, data);

        var output = Run(new Http2AuthorityFrameRewriter(), input, chunk: 7);

        var expectedBlock = HpackAuthorityRewriter.Rewrite(GoBlock)!;
        var expected = Concat(Preface, settings, Frame(0x1, 0x4, 1, expectedBlock), data);
        Assert.Equal(expected, output);
    }

    [Fact]
    public void Frames_without_a_bad_authority_pass_through_byte_for_byte()
    {
        var headers = Frame(0x1, 0x4 | 0x20, 3, [0, 0, 0, 0, 16, .. new byte[] { 0x83, 0x86 }]);
        var ping = Frame(0x6, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]);
        var input = Concat(Preface, headers, ping);

        Assert.Equal(input, Run(new Http2AuthorityFrameRewriter(), input, chunk: 1));
    }

    [Fact]
    public void Rewritten_block_larger_than_the_frame_limit_is_split_into_continuations()
    {
        var input = Concat(Preface, Frame(0x1, 0x4, 5, GoBlock));
        var output = Run(new Http2AuthorityFrameRewriter(maxFrameSize: 30), input, chunk: 4096);

        var block = HpackAuthorityRewriter.Rewrite(GoBlock)!;
        var expected = Concat(
            Preface,
            Frame(0x1, 0, 5, block[..30]),
            Frame(0x9, 0, 5, block[30..60]),
            Frame(0x9, 0x4, 5, block[60..]));
        Assert.Equal(expected, output);
    }

    private static byte[] Run(Http2AuthorityFrameRewriter rewriter, byte[] input, int chunk)
    {
        var output = new ArrayBufferWriter<byte>();
        var buffered = new List<byte>();
        for (var offset = 0; offset < input.Length; offset += chunk)
        {
            buffered.AddRange(input.Skip(offset).Take(chunk));
            var consumed = rewriter.Process(new ReadOnlySequence<byte>(buffered.ToArray()), output);
            buffered.RemoveRange(0, (int)consumed);
        }

        Assert.Empty(buffered);
        return output.WrittenSpan.ToArray();
    }

    private static byte[] Frame(byte type, byte flags, uint stream, byte[] payload) =>
    [
        (byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type, flags,
        (byte)(stream >> 24), (byte)(stream >> 16), (byte)(stream >> 8), (byte)stream, .. payload,
    ];

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
}
