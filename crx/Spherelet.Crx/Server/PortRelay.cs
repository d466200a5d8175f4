using System.Net.Sockets;
using Google.Protobuf;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Server;

/// <summary>
/// One forwarded connection: what the pod's server sends goes to the host as STDOUT on the
/// stream, what the host sends is written to the server; when the server's side ends (or the
/// connection fails, or the host closes it) the host gets an exited event and the relay is done.
/// </summary>
internal sealed class PortRelay : IDisposable
{
    private readonly ulong _streamId;
    private readonly Socket _socket;
    private readonly Func<Frame, Task> _send;
    private readonly Action<ulong> _done;
    private readonly System.Threading.Channels.Channel<StreamData> _toServer = System.Threading.Channels.Channel.CreateBounded<StreamData>(
        new System.Threading.Channels.BoundedChannelOptions((StreamWindow.InitialBytes / 1024) + 16) { SingleReader = true, SingleWriter = true });
    private readonly StreamWindow _window = new();
    private int _finished;

    public PortRelay(ulong streamId, Socket socket, Func<Frame, Task> send, Action<ulong> done)
    {
        _streamId = streamId;
        _socket = socket;
        _send = send;
        _done = done;
    }

    /// <summary>Relays both ways until the server closes or the connection fails.</summary>
    public Task RunAsync() => Task.WhenAll(ReadAsync(), WriteLoopAsync());

    /// <summary>
    /// Bytes from the host for the server, queued (CRX's channel reader must never wait for a slow
    /// server); end of file shuts the connection's sending side.
    /// </summary>
    public void Write(StreamData data)
    {
        if (!_toServer.Writer.TryWrite(data))
        {
            Guest.CrxLog.Warn($"port forward stream={_streamId}: the host sent beyond its window; dropped");
        }
    }

    /// <summary>The host took <paramref name="bytes"/> more of what the server sent.</summary>
    public void Credit(ulong bytes) => _window.Give(bytes);

    private async Task ReadAsync()
    {
        var failed = false;
        var buffer = new byte[StreamWindow.MaxChunkBytes];
        try
        {
            while (true)
            {
                var read = await _socket.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0 || !await _window.TakeAsync(read, CancellationToken.None))
                {
                    break;
                }

                await _send(new Frame { Id = _streamId, Data = new StreamData { Kind = StreamKind.Stdout, Data = ByteString.CopyFrom(buffer, 0, read) } });
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            failed = _finished == 0;
        }

        await FinishAsync(failed ? 1 : 0);
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var data in _toServer.Reader.ReadAllAsync())
            {
                if (!data.Data.IsEmpty)
                {
                    await _socket.SendAsync(data.Data.Memory, SocketFlags.None);
                    await _send(new Frame { Id = _streamId, Credit = new StreamCredit { Bytes = (ulong)data.Data.Length } });
                }

                if (data.Eof)
                {
                    _socket.Shutdown(SocketShutdown.Send);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The server has gone: the read side reports the end.
        }
    }

    /// <summary>The host closes the connection.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _finished, 1) == 0)
        {
            _toServer.Writer.TryComplete();
            _window.Close();
            _socket.Dispose();
            _done(_streamId);
        }
    }

    private async Task FinishAsync(int exitCode)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return; // closed by the host: it asked for the end and needs no event
        }

        _toServer.Writer.TryComplete();
        _window.Close();
        _socket.Dispose();
        _done(_streamId);
        await _send(new Frame { Id = _streamId, Data = new StreamData { Kind = StreamKind.Stdout, Eof = true } });
        await _send(new Frame { Id = _streamId, Event = new Event { Exited = new ProcessExit { ExitCode = exitCode } } });
    }
}
