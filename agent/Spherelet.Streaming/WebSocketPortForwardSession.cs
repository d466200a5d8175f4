using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Streaming;

namespace Spherelet.Streaming;

/// <summary>
/// Port forwarding over WebSocket (<c>portforward.k8s.io</c>) as the kubelet serves it: one
/// connection per port of the request (or of the URL's <c>port</c> query), on channels 2i (data)
/// and 2i+1 (error) for the i-th port, each opened by a message carrying the port as two
/// little-endian bytes. The session ends when the client closes or every connection has ended.
/// </summary>
public static partial class WebSocketPortForwardSession
{
    public const string Protocol = "portforward.k8s.io";

    public static async Task RunAsync(WebSocket socket, PortForwardStreamRequest request, IReadOnlyList<int> ports, IStreamingRuntime runtime, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(ports);
        using var send = new SemaphoreSlim(1, 1);
        async Task SendAsync(int channel, ReadOnlyMemory<byte> data)
        {
            var message = new byte[data.Length + 1];
            message[0] = (byte)channel;
            data.CopyTo(message.AsMemory(1));
            await send.WaitAsync(cancellationToken);
            try
            {
                await socket.SendAsync(message, WebSocketMessageType.Binary, true, cancellationToken);
            }
            finally
            {
                send.Release();
            }
        }

        var connections = new IPodPortConnection?[ports.Count];
        try
        {
            for (var i = 0; i < ports.Count; i++)
            {
                var portBytes = new[] { (byte)(ports[i] & 0xFF), (byte)(ports[i] >> 8) };
                await SendAsync(2 * i, portBytes);
                await SendAsync((2 * i) + 1, portBytes);
                try
                {
                    connections[i] = await runtime.OpenPortAsync(request.SandboxId, ports[i], cancellationToken);
                }
                catch (SphereletException e)
                {
                    await SendAsync((2 * i) + 1, Encoding.UTF8.GetBytes($"error forwarding port {ports[i]} to pod {request.SandboxId}: {e.Message}"));
                }
            }

            var toClient = connections.Select((c, i) => c is null ? Task.CompletedTask : PumpToClientAsync(c, 2 * i, SendAsync, cancellationToken)).ToList();
            var fromClient = ReceiveAsync(socket, connections, cancellationToken);
            await Task.WhenAny(Task.WhenAll(toClient), fromClient);
            if (socket.State == WebSocketState.Open)
            {
                await send.WaitAsync(cancellationToken);
                try
                {
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, cancellationToken);
                }
                finally
                {
                    send.Release();
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException)
        {
            LogClientGone(logger, request.SandboxId);
        }
        finally
        {
            foreach (var connection in connections)
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
            }
        }
    }

    private static async Task PumpToClientAsync(IPodPortConnection connection, int channel, Func<int, ReadOnlyMemory<byte>, Task> send, CancellationToken cancellationToken)
    {
        await foreach (var chunk in connection.Incoming.ReadAllAsync(cancellationToken))
        {
            await send(channel, chunk);
        }
    }

    private static async Task ReceiveAsync(WebSocket socket, IPodPortConnection?[] connections, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                buffer.Clear();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.GetMemory(16 * 1024), cancellationToken);
                    buffer.Advance(result.Count);
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }

                var message = buffer.WrittenMemory;
                if (message.Length > 1 && message.Span[0] % 2 == 0 && message.Span[0] / 2 < connections.Length && connections[message.Span[0] / 2] is { } connection)
                {
                    await connection.WriteAsync(message[1..].ToArray(), cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or SphereletException)
        {
            // The client or the pod's server has gone.
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "port forward over WebSocket ended by the client sandbox={SandboxId}")]
    private static partial void LogClientGone(ILogger logger, string sandboxId);
}
