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

    /// <param name="onActivity">Called for every message either way (the session's idle watch).</param>
    public static async Task RunAsync(
        WebSocket socket, PortForwardStreamRequest request, IReadOnlyList<int> ports, IStreamingRuntime runtime, ILogger logger, CancellationToken cancellationToken, Action? onActivity = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(ports);
        using var channels = new WebSocketChannels(socket, onActivity: onActivity);
        Task SendAsync(int channel, ReadOnlyMemory<byte> data) => channels.SendAsync((byte)channel, data, cancellationToken);

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
            var fromClient = ReceiveAsync(channels, connections, cancellationToken);
            await Task.WhenAny(Task.WhenAll(toClient), fromClient);
            await channels.CloseAsync(cancellationToken);
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

    private static async Task ReceiveAsync(WebSocketChannels channels, IPodPortConnection?[] connections, CancellationToken cancellationToken)
    {
        try
        {
            while (await channels.ReceiveAsync(cancellationToken) is var (channel, data))
            {
                if (data.Length > 0 && channel % 2 == 0 && channel / 2 < connections.Length && connections[channel / 2] is { } connection)
                {
                    await connection.WriteAsync(data, cancellationToken);
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
