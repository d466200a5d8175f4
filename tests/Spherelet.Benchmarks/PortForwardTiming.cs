namespace Spherelet.Benchmarks;

/// <summary>
/// One transfer read through a port-forward URL: the data bytes received (the first chunk's
/// among them), the ms from the CRI PortForward call to the first chunk (call, upgrade,
/// connection in the pod, the server's start) and from the first chunk to the last.
/// </summary>
internal sealed record PortForwardTiming(long Bytes, long FirstChunk, double FirstByteMs, double TransferMs)
{
    /// <summary>The rate after the first chunk (which arrived at the start of the timed span), in Mbit/s.</summary>
    public double Mbps => (Bytes - FirstChunk) * 8 / 1e6 / (TransferMs / 1000);
}
