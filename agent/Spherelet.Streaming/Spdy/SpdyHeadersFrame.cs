namespace Spherelet.Streaming.Spdy;

/// <summary>HEADERS: more headers for an open stream.</summary>
public sealed record SpdyHeadersFrame(uint StreamId, SpdyHeaders Headers, SpdyControlBits Flags = SpdyControlBits.None) : SpdyFrame;
