using System.Net.Sockets;
using System.Threading.Channels;
using Spherelet.Streaming.Spdy;

namespace Spherelet.Tests.Streaming.Spdy;

/// <summary>
/// A hand-written client end for a <see cref="SpdyConnection"/>: it writes frames itself and a background loop
/// reads every frame the server sends, so tests take them in order (and the socket never backs up).
/// </summary>
internal sealed class SpdyTestClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly NetworkStream _stream;
    private readonly SpdyFrameWriter _writer;
    private readonly Channel<SpdyFrame> _received = Channel.CreateUnbounded<SpdyFrame>();
    private readonly Task _readLoop;

    private SpdyTestClient(NetworkStream stream)
    {
        _stream = stream;
        _writer = new SpdyFrameWriter(stream);
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>The connection under test, on the other end of the client's socket.</summary>
    public SpdyConnection Server { get; private init; } = null!;

    public static async Task<SpdyTestClient> ConnectAsync(SpdyConnectionOptions? options = null)
    {
        var (server, client) = await SocketPair.CreateAsync();
        return new SpdyTestClient(client) { Server = new SpdyConnection(server, options) };
    }

    public Task SendAsync(SpdyFrame frame) => _writer.WriteAsync(frame);

    /// <summary>Writes bytes as they are, for frames the writer would not make.</summary>
    public async Task SendRawAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Opens a stream with Kubernetes-like headers and returns the server's end of it.</summary>
    public async Task<SpdyStream> OpenStreamAsync(uint id, string streamType = "data", bool reply = true)
    {
        await SendAsync(new SpdySynStreamFrame(id, new SpdyHeaders { { "streamtype", streamType }, { "port", "8080" }, { "requestid", "0" } }));
        var stream = await Server.AcceptStreamAsync().AsTask().WaitAsync(Timeout);
        Assert.NotNull(stream);
        if (reply)
        {
            await stream.ReplyAsync();
            await NextAsync<SpdySynReplyFrame>(f => f.StreamId == id);
        }

        return stream;
    }

    /// <summary>The next frame of the type (and match) the server sent; frames before it of other kinds are passed over.</summary>
    public async Task<T> NextAsync<T>(Func<T, bool>? match = null)
        where T : SpdyFrame
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            var frame = await _received.Reader.ReadAsync(timeout.Token);
            if (frame is T wanted && (match is null || match(wanted)))
            {
                return wanted;
            }
        }
    }

    /// <summary>Whether a frame of the type arrives within the time (frames of other kinds are passed over).</summary>
    public async Task<bool> ArrivesWithinAsync<T>(TimeSpan time)
        where T : SpdyFrame
    {
        using var timeout = new CancellationTokenSource(time);
        try
        {
            while (true)
            {
                if (await _received.Reader.ReadAsync(timeout.Token) is T)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The data of DATA frames of the stream until <paramref name="length"/> bytes came.</summary>
    public async Task<byte[]> ReadDataAsync(uint streamId, int length)
    {
        var data = new List<byte>(length);
        while (data.Count < length)
        {
            var frame = await NextAsync<SpdyDataFrame>(f => f.StreamId == streamId);
            data.AddRange(frame.Data.ToArray());
        }

        return [.. data];
    }

    /// <summary>Whether the server closed the socket: the read loop ended and every frame before it was taken.</summary>
    public Task ClosedByServer => _readLoop;

    /// <summary>Closes the client's socket, as a client that goes away does.</summary>
    public async Task DisconnectAsync()
    {
        _stream.Socket.Shutdown(SocketShutdown.Both);
        await _stream.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        await _stream.DisposeAsync();
        await _readLoop.WaitAsync(Timeout);
        _writer.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        var reader = new SpdyFrameReader(_stream);
        try
        {
            while (await reader.ReadFrameAsync() is { } frame)
            {
                await _received.Writer.WriteAsync(frame);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }

        _received.Writer.TryComplete();
    }
}
