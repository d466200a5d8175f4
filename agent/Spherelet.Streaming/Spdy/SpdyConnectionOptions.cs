namespace Spherelet.Streaming.Spdy;

/// <summary>Limits and choices of a <see cref="SpdyConnection"/>.</summary>
public sealed class SpdyConnectionOptions
{
    /// <summary>The longest frame accepted from the peer (the protocol's own limit by default).</summary>
    public int MaxFrameLength { get; init; } = SpdyFrame.MaxLength;

    /// <summary>The longest DATA frame sent; longer writes go out in several frames.</summary>
    public int MaxDataFrameLength { get; init; } = 16 * 1024;

    /// <summary>
    /// How much received data a stream holds unread before the connection stops reading from the transport (and
    /// so from every stream) until the stream's reader catches up. A peer that keeps to its window never gets
    /// there; one that ignores windows, as moby/spdystream does, is slowed down by TCP instead.
    /// </summary>
    public int MaxBufferedBytesPerStream { get; init; } = 1024 * 1024;

    /// <summary>Called for every DATA frame received or sent and every stream the peer opens (not for pings or window updates): the session's idle watch.</summary>
    public Action? OnActivity { get; init; }

    /// <summary>Whether writes wait for the peer's windows.</summary>
    public SpdySendFlowControl SendFlowControl { get; init; } = SpdySendFlowControl.WhenPeerUsesIt;
}
