namespace Spherelet.Streaming.Spdy;

/// <summary>RST_STREAM: ends a stream at once, both ways.</summary>
public sealed record SpdyRstStreamFrame(uint StreamId, SpdyStreamStatus Status) : SpdyFrame;
