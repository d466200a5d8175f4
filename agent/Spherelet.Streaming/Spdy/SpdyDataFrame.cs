namespace Spherelet.Streaming.Spdy;

/// <summary>A DATA frame: bytes of one stream; <paramref name="Fin"/> ends the sender's half of the stream.</summary>
public sealed record SpdyDataFrame(uint StreamId, ReadOnlyMemory<byte> Data, bool Fin = false) : SpdyFrame;
