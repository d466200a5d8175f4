using System.Buffers;
using System.Text;
using System.Threading.Channels;
using Spherelet.Streaming.Spdy;

namespace Spherelet.Streaming;

/// <summary>
/// A remote command over SPDY/3.1 as the kubelet serves it: the client opens one stream per
/// channel, named by its <c>streamtype</c> header (error, stdin, stdout, stderr, resize); the
/// session starts once every expected stream is there. At the end stdout and stderr are closed
/// and the status goes on the error stream: a Kubernetes Status (v4.channel.k8s.io) or, in the
/// older protocols, the failure's text (nothing on success).
/// </summary>
public sealed class SpdyRemoteCommandTransport : IRemoteCommandTransport
{
    public const string V4 = "v4.channel.k8s.io";
    public const string V3 = "v3.channel.k8s.io";
    public const string V2 = "v2.channel.k8s.io";

    /// <summary>The first protocol, also what a client that names none gets (as the kubelet does).</summary>
    public const string V1 = "channel.k8s.io";

    /// <summary>The protocols spoken, most preferred first.</summary>
    public static readonly IReadOnlyList<string> Protocols = [V4, V3, V2, V1];

    private readonly SpdyConnection _connection;
    private readonly string _protocol;
    private readonly Dictionary<string, SpdyStream> _streams;
    private readonly Channel<ClientInput> _input = Channel.CreateUnbounded<ClientInput>();

    private SpdyRemoteCommandTransport(SpdyConnection connection, string protocol, Dictionary<string, SpdyStream> streams)
    {
        _connection = connection;
        _protocol = protocol;
        _streams = streams;
    }

    public ChannelReader<ClientInput> Input => _input.Reader;

    /// <summary>
    /// Takes the client's streams (replying to each) until the expected ones are there: error always,
    /// stdin, stdout and stderr as asked (no stderr on a terminal), resize with a terminal from v3 on.
    /// </summary>
    /// <returns>The transport, or null when the client did not open them in time or went away.</returns>
    public static async Task<SpdyRemoteCommandTransport?> AcceptAsync(
        SpdyConnection connection, string protocol, bool stdin, bool stdout, bool stderr, bool tty, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var expected = new HashSet<string>(StringComparer.Ordinal) { "error" };
        if (stdin)
        {
            expected.Add("stdin");
        }

        if (stdout)
        {
            expected.Add("stdout");
        }

        if (stderr && !tty)
        {
            expected.Add("stderr");
        }

        if (tty && protocol is V4 or V3)
        {
            expected.Add("resize");
        }

        var streams = new Dictionary<string, SpdyStream>(StringComparer.Ordinal);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (!expected.IsSubsetOf(streams.Keys))
            {
                var stream = await connection.AcceptStreamAsync(deadline.Token);
                if (stream is null)
                {
                    return null;
                }

                await stream.ReplyAsync(cancellationToken: deadline.Token);
                var type = stream.Headers["streamtype"] ?? string.Empty;
                if (!streams.TryAdd(type, stream))
                {
                    await stream.ResetAsync(SpdyStreamStatus.ProtocolError, deadline.Token);
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        var transport = new SpdyRemoteCommandTransport(connection, protocol, streams);
        transport.Start();
        return transport;
    }

    public Task SendStdoutAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _streams.TryGetValue("stdout", out var stream) ? stream.WriteAsync(data, cancellationToken) : Task.CompletedTask;

    public Task SendStderrAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _streams.TryGetValue("stderr", out var stream) ? stream.WriteAsync(data, cancellationToken) : Task.CompletedTask;

    public async Task FinishAsync(RemoteCommandStatus status, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        foreach (var type in new[] { "stdout", "stderr" })
        {
            if (_streams.TryGetValue(type, out var stream))
            {
                await stream.CloseWriteAsync(cancellationToken);
            }
        }

        var error = _streams["error"];
        var message = _protocol == V4 ? status.ToJson() : Encoding.UTF8.GetBytes(status.ToText());
        if (message.Length > 0)
        {
            await error.WriteAsync(message, cancellationToken);
        }

        await error.CloseWriteAsync(cancellationToken);
    }

    private void Start()
    {
        if (_streams.TryGetValue("stdin", out var stdin))
        {
            _ = ReadStdinAsync(stdin);
        }

        if (_streams.TryGetValue("resize", out var resize))
        {
            _ = ReadResizesAsync(resize);
        }

        // The client is gone when the connection is.
        _ = _connection.Completion.ContinueWith(_ => _input.Writer.TryComplete(), TaskScheduler.Default);
    }

    private async Task ReadStdinAsync(SpdyStream stream)
    {
        var buffer = new byte[32 * 1024];
        while (true)
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
            {
                // End of stdin only when the client said so: a client that went away leaves an
                // attached main process's stdin open (the next attach may use it).
                if (stream.FinReceived)
                {
                    _input.Writer.TryWrite(ClientInput.StdinEnd());
                }

                return;
            }

            _input.Writer.TryWrite(ClientInput.Stdin(buffer.AsMemory(0, read).ToArray()));
        }
    }

    /// <summary>JSON objects one after another; an object may arrive in pieces.</summary>
    private async Task ReadResizesAsync(SpdyStream stream)
    {
        var pending = new ArrayBufferWriter<byte>();
        var buffer = new byte[4096];
        while (true)
        {
            var read = await stream.ReadAsync(buffer);
            if (read == 0)
            {
                return;
            }

            pending.Write(buffer.AsSpan(0, read));
            var complete = CompleteObjectsLength(pending.WrittenSpan);
            if (complete > 0)
            {
                foreach (var size in TerminalSize.ParseAll(pending.WrittenSpan[..complete]))
                {
                    _input.Writer.TryWrite(ClientInput.Resize(size));
                }

                var rest = pending.WrittenSpan[complete..].ToArray();
                pending.Clear();
                pending.Write(rest);
            }
        }
    }

    /// <summary>How many leading bytes hold whole top-level JSON objects (sizes hold no strings with braces).</summary>
    private static int CompleteObjectsLength(ReadOnlySpan<byte> data)
    {
        var depth = 0;
        var complete = 0;
        for (var i = 0; i < data.Length; i++)
        {
            if (data[i] == (byte)'{')
            {
                depth++;
            }
            else if (data[i] == (byte)'}' && depth > 0 && --depth == 0)
            {
                complete = i + 1;
            }
        }

        return complete;
    }
}
