namespace Spherelet.Domain.Streaming;

/// <summary>The streaming server as CRI's Exec, Attach, PortForward and Status see it.</summary>
public interface IStreamingEndpoint
{
    /// <summary>The single-use URL a client streams the request through.</summary>
    /// <exception cref="Errors.RuntimeNotReadyException">The server is not serving.</exception>
    Uri UrlFor(StreamRequest request);

    /// <summary>Where it serves, open sessions by kind (open now, started in all), and URLs handed out but not used yet.</summary>
    StreamingStatus Status();
}
