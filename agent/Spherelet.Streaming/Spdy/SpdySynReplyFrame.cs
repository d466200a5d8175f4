namespace Spherelet.Streaming.Spdy;

/// <summary>SYN_REPLY: the receiver of a stream accepts it, with its own headers.</summary>
public sealed record SpdySynReplyFrame(uint StreamId, SpdyHeaders Headers, SpdyControlBits Flags = SpdyControlBits.None) : SpdyFrame;
