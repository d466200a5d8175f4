namespace Spherelet.Streaming.Spdy;

/// <summary>The flag bits of SYN_STREAM, SYN_REPLY and HEADERS frames.</summary>
[Flags]
public enum SpdyControlBits : byte
{
    None = 0,

    /// <summary>The sender sends nothing more on the stream.</summary>
    Fin = 0x01,

    /// <summary>(SYN_STREAM) the receiver may not send on the stream: it is half-closed for the receiver from the start.</summary>
    Unidirectional = 0x02,
}
