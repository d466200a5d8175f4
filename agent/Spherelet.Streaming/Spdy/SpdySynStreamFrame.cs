namespace Spherelet.Streaming.Spdy;

/// <summary>SYN_STREAM: opens a stream with its headers. <paramref name="Priority"/> is 0 (highest) to 7.</summary>
public sealed record SpdySynStreamFrame(
    uint StreamId,
    SpdyHeaders Headers,
    SpdyControlBits Flags = SpdyControlBits.None,
    uint AssociatedStreamId = 0,
    byte Priority = 0,
    byte Slot = 0) : SpdyFrame;
