using System.Threading.Channels;

namespace Spherelet.Streaming;

/// <summary>One remote command session's connection to its client (WebSocket or SPDY), seen the same way by the session.</summary>
public interface IRemoteCommandTransport
{
    /// <summary>What the client sends; completes when the client has gone.</summary>
    ChannelReader<ClientInput> Input { get; }

    Task SendStdoutAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    Task SendStderrAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Sends the final status on the error channel, in the form of the transport's protocol, and ends the session's streams.</summary>
    Task FinishAsync(RemoteCommandStatus status, CancellationToken cancellationToken);
}
