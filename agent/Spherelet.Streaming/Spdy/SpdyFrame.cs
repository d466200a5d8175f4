namespace Spherelet.Streaming.Spdy;

/// <summary>
/// A SPDY/3 frame as <see cref="SpdyFrameReader"/> reads it and <see cref="SpdyFrameWriter"/> writes it: a data
/// frame or one of the control frames. Header blocks are held decompressed.
/// </summary>
public abstract record SpdyFrame
{
    /// <summary>The protocol version in every control frame.</summary>
    public const ushort Version = 3;

    /// <summary>The largest length the 24-bit length field of a frame can hold.</summary>
    public const int MaxLength = 0xFFFFFF;

    /// <summary>The largest stream id (31 bits).</summary>
    public const uint MaxStreamId = 0x7FFFFFFF;
}
