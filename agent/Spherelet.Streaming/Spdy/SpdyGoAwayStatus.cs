namespace Spherelet.Streaming.Spdy;

/// <summary>Why a session ends (the status of a GOAWAY frame).</summary>
public enum SpdyGoAwayStatus : uint
{
    Ok = 0,
    ProtocolError = 1,
    InternalError = 2,
}
