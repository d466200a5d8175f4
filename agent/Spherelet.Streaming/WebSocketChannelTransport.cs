using System.Net.WebSockets;
using System.Threading.Channels;

namespace Spherelet.Streaming;

/// <summary>
/// A remote command over WebSocket with Kubernetes' channel subprotocols: every binary message
/// starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize). In
/// <c>v5.channel.k8s.io</c> the client can also close one of its channels with the message
/// <c>255, channel</c> (closing stdin sends end-of-file). The session ends with the status on
/// the error channel and a normal close.
/// </summary>
public sealed class WebSocketChannelTransport : IRemoteCommandTransport, IDisposable
{
    public const string V5 = "v5.channel.k8s.io";
    public const string V4 = "v4.channel.k8s.io";

    /// <summary>The subprotocols spoken, most preferred first.</summary>
    public static readonly IReadOnlyList<string> Protocols = [V5, V4];

    private const byte StdinChannel = 0;
    private const byte StdoutChannel = 1;
    private const byte StderrChannel = 2;
    private const byte ErrorChannel = 3;
    private const byte ResizeChannel = 4;
    private const byte CloseSignal = 255;
    private const int MaxMessageBytes = 1 << 20;

    private readonly WebSocketChannels _channels;
    private readonly bool _v5;
    private readonly Channel<ClientInput> _input = Channel.CreateUnbounded<ClientInput>(new UnboundedChannelOptions { SingleWriter = true });

    /// <param name="onActivity">Called for every message either way (the session's idle watch).</param>
    public WebSocketChannelTransport(WebSocket socket, string protocol, Action? onActivity = null)
    {
        _channels = new WebSocketChannels(socket, MaxMessageBytes, onActivity);
        _v5 = protocol == V5;
    }

    public ChannelReader<ClientInput> Input => _input.Reader;

    /// <summary>Reads the client's messages into <see cref="Input"/> until it closes or goes away.</summary>
    public async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _channels.ReceiveAsync(cancellationToken) is var (channel, data))
            {
                switch (channel)
                {
                    case StdinChannel when data.Length > 0:
                        await _input.Writer.WriteAsync(ClientInput.Stdin(data), cancellationToken);
                        break;
                    case ResizeChannel:
                        foreach (var size in TerminalSize.ParseAll(data.Span))
                        {
                            await _input.Writer.WriteAsync(ClientInput.Resize(size), cancellationToken);
                        }

                        break;
                    case CloseSignal when _v5 && data.Length > 0 && data.Span[0] == StdinChannel:
                        await _input.Writer.WriteAsync(ClientInput.StdinEnd(), cancellationToken);
                        break;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The client has gone.
        }
        finally
        {
            _input.Writer.TryComplete();
        }
    }

    public Task SendStdoutAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => SendAsync(StdoutChannel, data, cancellationToken);

    public Task SendStderrAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => SendAsync(StderrChannel, data, cancellationToken);

    public async Task FinishAsync(RemoteCommandStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        await SendAsync(ErrorChannel, status.ToJson(), cancellationToken);
        await _channels.CloseAsync(cancellationToken);
    }

    public void Dispose() => _channels.Dispose();

    private Task SendAsync(byte channel, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => _channels.SendAsync(channel, data, cancellationToken);
}
