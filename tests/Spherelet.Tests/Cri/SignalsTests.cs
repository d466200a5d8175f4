using Spherelet.Cri;

namespace Spherelet.Tests.Cri;

/// <summary>Stop signals as images write them and as CRI names them.</summary>
public sealed class SignalsTests
{
    [Theory]
    [InlineData("SIGTERM", 15)]
    [InlineData("TERM", 15)]
    [InlineData("sigquit", 3)]
    [InlineData("9", 9)]
    [InlineData("SIGRTMIN+3", 37)]
    [InlineData("SIGRTMINPLUS3", 37)]
    [InlineData("SIGRTMAX-2", 62)]
    [InlineData("SIGWINCH", 28)]
    public void Image_stop_signals_are_parsed(string text, int number) => Assert.Equal(number, Signals.Parse(text));

    [Theory]
    [InlineData("SIGNOPE")]
    [InlineData("0")]
    [InlineData("65")]
    [InlineData("SIGRTMIN+40")]
    public void Unknown_signals_are_none(string text) => Assert.Null(Signals.Parse(text));

    [Fact]
    public void Cri_signal_values_map_to_linux_numbers_and_back()
    {
        Assert.Null(Signals.FromCri(Runtime.V1.Signal.RuntimeDefault));
        Assert.Equal(15, Signals.FromCri(Runtime.V1.Signal.Sigterm));
        Assert.Equal(10, Signals.FromCri(Runtime.V1.Signal.Sigusr1));
        Assert.Equal(35, Signals.FromCri(Runtime.V1.Signal.Sigrtminplus1));
        Assert.Equal(Runtime.V1.Signal.Sigterm, Signals.ToCri(15));
        Assert.Equal(Runtime.V1.Signal.Sigkill, Signals.ToCri(9));
    }
}
