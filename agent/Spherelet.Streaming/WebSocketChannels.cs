using System.Buffers;
using System.Net.WebSockets;

namespace Spherelet.Streaming;

/// <summary>
/// Kubernetes' channel framing on a WebSocket, shared by remote command and port forwarding:
/// every binary message is one channel byte and its data. Sends never interleave (one lock for
/// messages and the close), and a close the client starts is answered.
/// </summary>
public sealed class WebSocketChannels : IDisposable
{
    private readonly WebSocket _socket;
    private readonly int _maxMessageBytes;
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly Action? _onActivity;

    /// <param name="maxMessageBytes">A longer message from the client is a protocol error.</param>
    /// <param name="onActivity">Called for every message received or sent (the session's idle watch).</param>
    public WebSocketChannels(WebSocket socket, int maxMessageBytes = int.MaxValue, Action? onActivity = null)
    {
        _socket = socket;
        _maxMessageBytes = maxMessageBytes;
        _onActivity = onActivity;
    }

    public WebSocketState State => _socket.State;

    /// <summary>The client's next message (its channel and data, maybe empty), or null once it has closed (the close is answered).</summary>
    /// <exception cref="WebSocketException">The client went away or broke the protocol.</exception>
    public async Task<(byte Channel, ReadOnlyMemory<byte> Data)?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        while (_socket.State == WebSocketState.Open)
        {
            buffer.Clear();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(buffer.GetMemory(16 * 1024), cancellationToken);
                buffer.Advance(result.Count);
                if (buffer.WrittenCount > _maxMessageBytes)
                {
                    throw new WebSocketException(WebSocketError.InvalidMessageType, $"a message over {_maxMessageBytes} bytes");
                }
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                await CloseAsync(cancellationToken);
                return null;
            }

            if (buffer.WrittenCount > 0)
            {
                _onActivity?.Invoke();
                var message = buffer.WrittenMemory;
                return (message.Span[0], message[1..].ToArray());
            }
        }

        return null;
    }

    public async Task SendAsync(byte channel, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var message = new byte[data.Length + 1];
        message[0] = channel;
        data.CopyTo(message.AsMemory(1));
        await _send.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);
            _onActivity?.Invoke();
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>Sends the close (a normal closure) unless it was sent already.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken)
    {
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
}
