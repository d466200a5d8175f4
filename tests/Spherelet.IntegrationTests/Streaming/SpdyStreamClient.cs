using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Spherelet.Streaming.Spdy;

namespace Spherelet.IntegrationTests.Streaming;

/// <summary>
/// A client of the kubelet's SPDY/3.1 streaming, written for the tests: the HTTP/1.1 upgrade with
/// X-Stream-Protocol-Version, then streams it opens (odd ids) with Kubernetes' headers. It uses
/// the framing and header compression of Spherelet.Streaming.Spdy (tested on their own against
/// zlib and Go's spdystream).
/// </summary>
internal sealed class SpdyStreamClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly SpdyFrameWriter _writer;
    private readonly SpdyFrameReader _reader;
    private readonly ConcurrentDictionary<uint, MemoryStream> _received = new();
    private readonly ConcurrentDictionary<uint, bool> _finished = new();
    private readonly Task _readLoop;
    private uint _nextId = 1;

    private SpdyStreamClient(TcpClient tcp, NetworkStream stream, string protocol)
    {
        _tcp = tcp;
        _stream = stream;
        Protocol = protocol;
        _writer = new SpdyFrameWriter(stream);
        _reader = new SpdyFrameReader(stream);
        _readLoop = ReadLoopAsync();
    }

    public string Protocol { get; }

    /// <summary>Upgrades the URL's request to SPDY/3.1 offering <paramref name="protocols"/>; the HTTP status and body when the server refuses.</summary>
    public static async Task<(SpdyStreamClient? Client, int Status, string Body)> ConnectAsync(string url, params string[] protocols)
    {
        var uri = new Uri(url);
        var tcp = new TcpClient();
        await tcp.ConnectAsync(uri.Host, uri.Port);
        var stream = tcp.GetStream();
        var request = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\n")
            .Append("Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n");
        foreach (var protocol in protocols)
        {
            request.Append(CultureInfo.InvariantCulture, $"X-Stream-Protocol-Version: {protocol}\r\n");
        }

        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.Append("\r\n").ToString()));
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one) == 1)
        {
            head.Append((char)one[0]);
        }

        var lines = head.ToString().Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], CultureInfo.InvariantCulture);
        if (status != 101)
        {
            var body = new byte[4096];
            var read = await stream.ReadAsync(body);
            tcp.Dispose();
            return (null, status, Encoding.UTF8.GetString(body, 0, read));
        }

        var chosen = lines.FirstOrDefault(l => l.StartsWith("X-Stream-Protocol-Version:", StringComparison.OrdinalIgnoreCase))?.Split(':', 2)[1].Trim() ?? string.Empty;
        return (new SpdyStreamClient(tcp, stream, chosen), status, string.Empty);
    }

    /// <summary>Opens a stream with the headers; returns its id.</summary>
    public async Task<uint> OpenAsync(params (string Name, string Value)[] headers)
    {
        var id = _nextId;
        _nextId += 2;
        _received[id] = new MemoryStream();
        var block = new SpdyHeaders();
        foreach (var (name, value) in headers)
        {
            block.Add(name, value);
        }

        await _writer.WriteAsync(new SpdySynStreamFrame(id, block));
        return id;
    }

    public Task WriteAsync(uint id, string text, bool fin = false) => _writer.WriteAsync(new SpdyDataFrame(id, Encoding.UTF8.GetBytes(text), fin));

    /// <summary>Ends the client's side of the stream.</summary>
    public Task CloseWriteAsync(uint id) => _writer.WriteAsync(new SpdyDataFrame(id, ReadOnlyMemory<byte>.Empty, Fin: true));

    public string Text(uint id)
    {
        var buffer = _received[id];
        lock (buffer)
        {
            return Encoding.UTF8.GetString(buffer.ToArray());
        }
    }

    public bool Finished(uint id) => _finished.ContainsKey(id);

    /// <summary>Waits until <paramref name="done"/> holds.</summary>
    public async Task WaitAsync(Func<bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (!done())
        {
            if (DateTime.UtcNow > deadline || _readLoop.IsCompleted)
            {
                return;
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        try
        {
            await _readLoop;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SpdyProtocolException)
        {
            // Closed under the read loop.
        }

        _writer.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        while (await _reader.ReadFrameAsync() is { } frame)
        {
            switch (frame)
            {
                case SpdyDataFrame data when _received.TryGetValue(data.StreamId, out var buffer):
                    lock (buffer)
                    {
                        buffer.Write(data.Data.Span);
                    }

                    if (data.Fin)
                    {
                        _finished[data.StreamId] = true;
                    }

                    break;
                case SpdySynReplyFrame { Flags: SpdyControlBits.Fin } reply:
                    _finished[reply.StreamId] = true;
                    break;
                case SpdyRstStreamFrame reset:
                    _finished[reset.StreamId] = true;
                    break;
                case SpdyPingFrame ping:
                    await _writer.WriteAsync(ping);
                    break;
            }
        }
    }
}
