namespace Spherelet.Crx.Containers;

/// <summary>What a process does with a signal (see <see cref="ProcessSignals"/>).</summary>
internal enum SignalDisposition
{
    /// <summary>The default action; for a PID namespace's init, the kernel drops the signal.</summary>
    Default,
    Handled,
    Ignored,
    Gone,
}
