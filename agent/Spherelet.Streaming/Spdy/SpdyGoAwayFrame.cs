namespace Spherelet.Streaming.Spdy;

/// <summary>GOAWAY: the sender takes no new streams; streams up to <paramref name="LastGoodStreamId"/> go on.</summary>
public sealed record SpdyGoAwayFrame(uint LastGoodStreamId, SpdyGoAwayStatus Status = SpdyGoAwayStatus.Ok) : SpdyFrame;
