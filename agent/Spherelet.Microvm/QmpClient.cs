using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spherelet.Domain.Errors;

namespace Spherelet.Microvm;

/// <summary>
/// One QMP connection to a VM's QEMU: the capabilities handshake, commands one at a time (matched to
/// their answers by id), events read as they come. <see cref="Closed"/> completes when QEMU closes
/// the connection, which it does only when it exits; the last SHUTDOWN event tells why. Answers are
/// bounded in size: QEMU is confined but not trusted.
/// </summary>
internal sealed class QmpClient : IAsyncDisposable
{
    private const int MaxLineBytes = 1024 * 1024;

    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly BufferedStream _input;
    private readonly SemaphoreSlim _commands = new(1, 1);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource<JsonNode?>? _pending;
    private string _pendingId = string.Empty;
    private long _nextId;
    private Task _reader = Task.CompletedTask;

    private QmpClient(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _input = new BufferedStream(_stream, 4096);
    }

    /// <summary>Completes when QEMU has closed the connection (it exited, or it was disposed).</summary>
    public Task Closed => _closed.Task;

    /// <summary>The reason of the last SHUTDOWN event ("guest-shutdown", "host-qmp-quit", "host-signal", ...); empty before one.</summary>
    public string ShutdownReason { get; private set; } = string.Empty;

    /// <summary>The last run state QEMU reported by event: true after RESUME, false after STOP.</summary>
    public bool? Running { get; private set; }

    /// <summary>Connects, reads the greeting and leaves negotiation mode.</summary>
    /// <exception cref="VmmOperationFailedException">No QMP socket answers there.</exception>
    public static async Task<QmpClient> ConnectAsync(string socketPath, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
        }
        catch (SocketException e)
        {
            socket.Dispose();
            throw new VmmOperationFailedException($"cannot reach QMP at {socketPath}: {e.Message}", e);
        }

        var client = new QmpClient(socket);
        try
        {
            var greeting = await client.ReadLineAsync(cancellationToken);
            if (greeting?["QMP"] is null)
            {
                throw new VmmOperationFailedException($"{socketPath} is not a QMP socket");
            }

            client._reader = Task.Run(client.ReadLoopAsync, CancellationToken.None);
            await client.ExecuteAsync("qmp_capabilities", null, cancellationToken);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs one command and returns its "return" value.</summary>
    /// <exception cref="VmmOperationFailedException">QEMU answered with an error, or the connection closed first.</exception>
    public async Task<JsonNode?> ExecuteAsync(string command, JsonObject? arguments, CancellationToken cancellationToken)
    {
        await _commands.WaitAsync(cancellationToken);
        try
        {
            var id = "sph-" + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var answer = new TaskCompletionSource<JsonNode?>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pendingId = id;
            Volatile.Write(ref _pending, answer);
            var request = new JsonObject { ["execute"] = command, ["id"] = id };
            if (arguments is not null)
            {
                request["arguments"] = arguments;
            }

            var bytes = Encoding.UTF8.GetBytes(request.ToJsonString() + "\n");
            try
            {
                await _stream.WriteAsync(bytes, cancellationToken);
            }
            catch (IOException e)
            {
                throw new VmmOperationFailedException($"QMP {command}: the connection is closed ({e.Message})", e);
            }

            var done = await Task.WhenAny(answer.Task, _closed.Task).WaitAsync(cancellationToken);
            if (done != answer.Task)
            {
                throw new VmmOperationFailedException($"QMP {command}: QEMU closed the connection before answering");
            }

            return await answer.Task;
        }
        finally
        {
            Volatile.Write(ref _pending, null);
            _commands.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (await ReadLineAsync(_stopping.Token) is { } message)
            {
                if (message["event"]?.GetValue<string>() is { } name)
                {
                    OnEvent(name, message["data"]);
                    continue;
                }

                var pending = Volatile.Read(ref _pending);
                if (pending is null || message["id"]?.GetValue<string>() != _pendingId)
                {
                    continue;
                }

                if (message["error"] is { } error)
                {
                    pending.TrySetException(new VmmOperationFailedException(
                        $"QEMU refused: {Bounded(error["desc"]?.ToString() ?? error.ToJsonString())}"));
                }
                else
                {
                    pending.TrySetResult(message["return"]);
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or JsonException or InvalidOperationException or VmmOperationFailedException or ObjectDisposedException)
        {
        }
        finally
        {
            _closed.TrySetResult();
        }
    }

    private void OnEvent(string name, JsonNode? data)
    {
        switch (name)
        {
            case "SHUTDOWN":
                ShutdownReason = Bounded(data?["reason"]?.ToString() ?? "shutdown");
                break;
            case "STOP":
                Running = false;
                break;
            case "RESUME":
                Running = true;
                break;
        }
    }

    private static string Bounded(string text) => text.Length > 200 ? text[..200] : text;

    /// <summary>One JSON message (a line); null at the end of the stream.</summary>
    private async Task<JsonNode?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new MemoryStream();
        var one = new byte[1];
        while (true)
        {
            var read = await _input.ReadAsync(one, cancellationToken);
            if (read == 0)
            {
                return null;
            }

            if (one[0] == (byte)'\n')
            {
                break;
            }

            if (line.Length >= MaxLineBytes)
            {
                throw new VmmOperationFailedException($"a QMP message is longer than {MaxLineBytes} bytes");
            }

            line.WriteByte(one[0]);
        }

        return line.Length == 0 ? await ReadLineAsync(cancellationToken) : JsonNode.Parse(line.ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _socket.Dispose();
        try
        {
            await _reader;
        }
        catch (OperationCanceledException)
        {
        }

        await _input.DisposeAsync();
        await _stream.DisposeAsync();
        _stopping.Dispose();
        _commands.Dispose();
    }
}
