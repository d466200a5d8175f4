namespace Spherelet.Streaming.Spdy;

/// <summary>WINDOW_UPDATE: the receiver of data lets the sender send <paramref name="Delta"/> more bytes on a stream, or on the whole session when <paramref name="StreamId"/> is 0 (SPDY/3.1).</summary>
public sealed record SpdyWindowUpdateFrame(uint StreamId, uint Delta) : SpdyFrame;
