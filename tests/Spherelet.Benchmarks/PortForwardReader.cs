using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;

namespace Spherelet.Benchmarks;

/// <summary>
/// A client of <c>portforward.k8s.io</c> over WebSocket for one port: reads what the pod's
/// server sends on the data channel (0) until the server ends the session, counting the bytes
/// and timing them; anything but the port announcement on the error channel (1) is a failure.
/// </summary>
internal static class PortForwardReader
{
    private const string Protocol = "portforward.k8s.io";

    /// <param name="watch">Started at the CRI PortForward call; the first-byte time is read from it.</param>
    public static async Task<PortForwardTiming> ReadAsync(string url, Stopwatch watch, TimeSpan timeout)
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol(Protocol);
        using var deadline = new CancellationTokenSource(timeout);
        await socket.ConnectAsync(new Uri(url.Replace("http://", "ws://", StringComparison.Ordinal)), deadline.Token);
        if (socket.SubProtocol != Protocol)
        {
            throw new InvalidOperationException($"the streaming server chose '{socket.SubProtocol}', not {Protocol}");
        }

        var buffer = new byte[256 * 1024];
        var announced = new bool[2];
        var error = new StringBuilder();
        long bytes = 0;
        long firstChunk = 0;
        double first = 0;
        double last = 0;
        var channel = -1;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(), deadline.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                break;
            }

            var data = buffer.AsSpan(0, result.Count);
            if (channel < 0 && data.Length > 0)
            {
                // The first byte of a message names its channel.
                channel = data[0];
                data = data[1..];
                if (channel is 0 or 1 && !announced[channel])
                {
                    // Each channel opens with the port, two bytes, little-endian.
                    announced[channel] = true;
                    data = data.Length >= 2 ? data[2..] : [];
                }
            }

            if (channel == 0 && data.Length > 0)
            {
                var now = watch.Elapsed.TotalMilliseconds;
                if (bytes == 0)
                {
                    first = now;
                    firstChunk = data.Length;
                }

                bytes += data.Length;
                last = now;
            }
            else if (channel == 1 && data.Length > 0)
            {
                error.Append(Encoding.UTF8.GetString(data));
            }

            if (result.EndOfMessage)
            {
                channel = -1;
            }
        }

        if (error.Length > 0)
        {
            throw new InvalidOperationException($"port forward failed: {error}");
        }

        return new PortForwardTiming(bytes, firstChunk, first, last - first);
    }
}
