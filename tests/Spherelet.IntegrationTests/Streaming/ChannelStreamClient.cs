using System.Net.WebSockets;
using System.Text;

namespace Spherelet.IntegrationTests.Streaming;

/// <summary>
/// A client of Kubernetes' WebSocket channel protocols (v4/v5.channel.k8s.io), written for the
/// tests: each binary message starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 error,
/// 4 resize; 255 closes a channel in v5).
/// </summary>
internal sealed class ChannelStreamClient : IDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly StringBuilder _error = new();

    private ChannelStreamClient(ClientWebSocket socket)
    {
        _socket = socket;
    }

    public string Protocol => _socket.SubProtocol ?? string.Empty;

    public string Stdout => _stdout.ToString();

    public string Stderr => _stderr.ToString();

    /// <summary>What the error channel carried (the final Kubernetes Status).</summary>
    public string Error => _error.ToString();

    public bool Closed { get; private set; }

    /// <summary>Connects to a streaming URL (http:// becomes ws://), offering <paramref name="protocols"/>.</summary>
    public static async Task<ChannelStreamClient> ConnectAsync(string url, params string[] protocols)
    {
        var (client, refusedWith) = await TryConnectAsync(url, protocols);
        return client ?? throw new InvalidOperationException($"the streaming server refused {url} with HTTP {refusedWith}");
    }

    /// <summary>Connects, or says with which HTTP status the server refused.</summary>
    public static async Task<(ChannelStreamClient? Client, int RefusedWith)> TryConnectAsync(string url, params string[] protocols)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        foreach (var protocol in protocols.Length > 0 ? protocols : ["v5.channel.k8s.io", "v4.channel.k8s.io"])
        {
            socket.Options.AddSubProtocol(protocol);
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await socket.ConnectAsync(new Uri(url.Replace("http://", "ws://", StringComparison.Ordinal)), timeout.Token);
            return (new ChannelStreamClient(socket), 0);
        }
        catch (WebSocketException)
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            return (null, status);
        }
    }

    public Task SendStdinAsync(string text) => SendAsync(0, Encoding.UTF8.GetBytes(text));

    public Task ResizeAsync(int width, int height) => SendAsync(4, Encoding.UTF8.GetBytes($"{{\"Width\":{width},\"Height\":{height}}}"));

    /// <summary>v5: closes stdin (the process reads end-of-file).</summary>
    public Task CloseStdinAsync() => SendAsync(255, [0]);

    public async Task SendAsync(byte channel, byte[] data)
    {
        var message = new byte[data.Length + 1];
        message[0] = channel;
        data.CopyTo(message, 1);
        await _socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
    }

    /// <summary>Reads until the server closes the session.</summary>
    public Task ReadToEndAsync(TimeSpan? timeout = null) => ReadUntilAsync(() => false, timeout);

    /// <summary>Reads until <paramref name="done"/> says so or the server closes the session.</summary>
    public async Task ReadUntilAsync(Func<bool> done, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        var buffer = new byte[65536];
        while (!Closed && !done())
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(buffer, deadline.Token);
                message.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                Closed = true;
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                break;
            }

            var bytes = message.ToArray();
            if (bytes.Length == 0)
            {
                continue;
            }

            var text = Encoding.UTF8.GetString(bytes, 1, bytes.Length - 1);
            _ = bytes[0] switch
            {
                1 => _stdout.Append(text),
                2 => _stderr.Append(text),
                3 => _error.Append(text),
                _ => _stdout,
            };
        }
    }

    /// <summary>Goes away without a close handshake, as a killed client does.</summary>
    public void Abort() => _socket.Abort();

    public void Dispose() => _socket.Dispose();
}
