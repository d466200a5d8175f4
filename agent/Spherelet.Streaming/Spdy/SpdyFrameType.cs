namespace Spherelet.Streaming.Spdy;

/// <summary>The control frame types of SPDY/3 (a data frame has no type: its control bit is clear).</summary>
public enum SpdyFrameType : ushort
{
    SynStream = 1,
    SynReply = 2,
    RstStream = 3,
    Settings = 4,
    Ping = 6,
    GoAway = 7,
    Headers = 8,
    WindowUpdate = 9,
}
