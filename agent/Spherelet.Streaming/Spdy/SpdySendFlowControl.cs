namespace Spherelet.Streaming.Spdy;

/// <summary>Whether a <see cref="SpdyConnection"/> holds its writes to the windows the peer grants.</summary>
public enum SpdySendFlowControl
{
    /// <summary>
    /// Windows are kept from the start but bind only once the peer shows it does flow control, by sending a
    /// WINDOW_UPDATE or a SETTINGS frame with INITIAL_WINDOW_SIZE. moby/spdystream (kubectl, the kubelet) does
    /// neither and ignores windows, so with it writes are never held.
    /// </summary>
    WhenPeerUsesIt,

    /// <summary>Writes wait for window from the first byte (64 KiB per stream and per session to start with).</summary>
    Always,

    /// <summary>Writes never wait for window.</summary>
    Never,
}
