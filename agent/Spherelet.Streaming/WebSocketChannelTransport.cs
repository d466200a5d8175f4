using System.Buffers;
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

    private readonly WebSocket _socket;
    private readonly bool _v5;
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly Channel<ClientInput> _input = Channel.CreateUnbounded<ClientInput>(new UnboundedChannelOptions { SingleWriter = true });

    public WebSocketChannelTransport(WebSocket socket, string protocol)
    {
        _socket = socket;
        _v5 = protocol == V5;
    }

    public ChannelReader<ClientInput> Input => _input.Reader;

    /// <summary>Reads the client's messages into <see cref="Input"/> until it closes or goes away.</summary>
    public async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                buffer.Clear();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.GetMemory(4096), cancellationToken);
                    buffer.Advance(result.Count);
                    if (buffer.WrittenCount > MaxMessageBytes)
                    {
                        throw new WebSocketException(WebSocketError.InvalidMessageType, $"a message over {MaxMessageBytes} bytes");
                    }
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    await AnswerCloseAsync(cancellationToken);
                    break;
                }

                var message = buffer.WrittenMemory;
                if (message.Length == 0)
                {
                    continue;
                }

                var data = message[1..].ToArray();
                switch (message.Span[0])
                {
                    case StdinChannel when data.Length > 0:
                        await _input.Writer.WriteAsync(ClientInput.Stdin(data), cancellationToken);
                        break;
                    case ResizeChannel:
                        foreach (var size in TerminalSize.ParseAll(data))
                        {
                            await _input.Writer.WriteAsync(ClientInput.Resize(size), cancellationToken);
                        }

                        break;
                    case CloseSignal when _v5 && data.Length > 0 && data[0] == StdinChannel:
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

    public async Task FinishAsync(ReadOnlyMemory<byte> status, CancellationToken cancellationToken)
    {
        await SendAsync(ErrorChannel, status, cancellationToken);
        await _send.WaitAsync(cancellationToken);
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
            }
        }
        finally
        {
            _send.Release();
        }
    }

    public void Dispose() => _send.Dispose();

    /// <summary>Completes a close the client started (one the server started is complete already).</summary>
    private async Task AnswerCloseAsync(CancellationToken cancellationToken)
    {
        await _send.WaitAsync(cancellationToken);
        try
        {
            if (_socket.State == WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
            }
        }
        finally
        {
            _send.Release();
        }
    }

    private async Task SendAsync(byte channel, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var message = new byte[data.Length + 1];
        message[0] = channel;
        data.CopyTo(message.AsMemory(1));
        await _send.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _send.Release();
        }
    }
}
