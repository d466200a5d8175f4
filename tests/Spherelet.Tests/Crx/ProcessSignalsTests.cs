using Spherelet.Crx.Containers;

namespace Spherelet.Tests.Crx;

/// <summary>Reading whether a process handles, ignores or leaves a signal at its default (busybox top's status as seen in a pod VM).</summary>
public sealed class ProcessSignalsTests
{
    private const string Top = "Name:\ttop\nPPid:\t0\nSigBlk:\t0000000000000000\nSigIgn:\t0000000180000000\nSigCgt:\t0000000003807a27\n";
    private const string Starting = "Name:\ttop\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n";

    [Fact]
    public void A_process_with_a_handler_handles_the_signal()
    {
        Assert.Equal(SignalDisposition.Handled, ProcessSignals.Parse(Top, 15));
    }

    [Fact]
    public void A_process_that_has_not_set_a_handler_yet_has_the_default()
    {
        Assert.Equal(SignalDisposition.Default, ProcessSignals.Parse(Starting, 15));
        Assert.Equal(SignalDisposition.Default, ProcessSignals.Parse(Top, 4));
    }

    [Fact]
    public void An_ignored_signal_is_ignored()
    {
        Assert.Equal(SignalDisposition.Ignored, ProcessSignals.Parse(Top, 32));
    }

    [Fact]
    public void A_process_that_is_gone_has_no_status()
    {
        Assert.Equal(SignalDisposition.Gone, ProcessSignals.Disposition(int.MaxValue, 15));
    }
}
