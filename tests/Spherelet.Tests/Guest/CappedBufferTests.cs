using System.Text;
using Spherelet.Guest;

namespace Spherelet.Tests.Guest;

/// <summary>ExecSync's output cap: the first bytes are kept and a marker says how much was dropped.</summary>
public sealed class CappedBufferTests
{
    [Fact]
    public void Output_within_the_limit_is_kept_whole()
    {
        var buffer = new CappedBuffer(10);
        buffer.Append("hello"u8);
        buffer.Append("world"u8);

        Assert.Equal("helloworld", Encoding.UTF8.GetString(buffer.ToArray()));
    }

    [Fact]
    public void Output_past_the_limit_is_cut_with_a_marker_that_counts_the_rest()
    {
        var buffer = new CappedBuffer(8);
        buffer.Append("12345"u8);
        buffer.Append("6789012"u8);

        Assert.Equal(4, buffer.Dropped);
        Assert.Equal("12345678\n[spherelet: output truncated: 8 bytes kept, 4 bytes dropped]\n", Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
