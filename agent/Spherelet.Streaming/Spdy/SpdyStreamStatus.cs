namespace Spherelet.Streaming.Spdy;

/// <summary>Why a stream is reset (the status of a RST_STREAM frame).</summary>
public enum SpdyStreamStatus : uint
{
    ProtocolError = 1,
    InvalidStream = 2,
    RefusedStream = 3,
    UnsupportedVersion = 4,
    Cancel = 5,
    InternalError = 6,
    FlowControlError = 7,
    StreamInUse = 8,
    StreamAlreadyClosed = 9,
    InvalidCredentials = 10,
    FrameTooLarge = 11,
}
