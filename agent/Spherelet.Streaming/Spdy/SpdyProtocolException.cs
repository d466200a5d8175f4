namespace Spherelet.Streaming.Spdy;

/// <summary>The peer broke the SPDY framing or its header compression; the session cannot go on.</summary>
public sealed class SpdyProtocolException : IOException
{
    public SpdyProtocolException()
    {
    }

    public SpdyProtocolException(string message)
        : base(message)
    {
    }

    public SpdyProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
