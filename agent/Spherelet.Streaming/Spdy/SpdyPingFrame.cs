namespace Spherelet.Streaming.Spdy;

/// <summary>PING: the receiver sends it back unchanged. Clients use odd ids, servers even ones.</summary>
public sealed record SpdyPingFrame(uint Id) : SpdyFrame;
