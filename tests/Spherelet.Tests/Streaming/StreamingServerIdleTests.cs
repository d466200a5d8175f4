using System.Net;
using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Streaming;
using Spherelet.Streaming;

namespace Spherelet.Tests.Streaming;

/// <summary>
/// The streaming server (real Kestrel on loopback, a WebSocket client) ends a session that carried
/// no data for the idle timeout as if its client had left, and leaves a busy one alone. The
/// runtime behind it is an in-memory process, so no VM is needed.
/// </summary>
public sealed class StreamingServerIdleTests
{
    [Fact]
    public async Task An_exec_session_without_data_for_the_idle_timeout_is_ended_and_its_process_killed()
    {
        var runtime = new OneProcessRuntime();
        await using var server = await StartAsync(runtime, idleTimeout: TimeSpan.FromSeconds(1));
        using var client = await ConnectAsync(server);

        var killed = await Task.WhenAny(runtime.Process.Disposed.Task, Task.Delay(TimeSpan.FromSeconds(30)));
        var ended = await ReceiveUntilEndAsync(client);

        Assert.Same(runtime.Process.Disposed.Task, killed);
        Assert.False(runtime.Process.Exited.Task.IsCompleted, "the process was let go (killed), it did not exit by itself");
        Assert.Null(ended.Status);
        Assert.Equal(0, await OpenSessionsWhenSettledAsync(server));
    }

    [Fact]
    public async Task An_exec_session_whose_process_keeps_writing_outlives_the_idle_timeout_and_ends_with_its_status()
    {
        var runtime = new OneProcessRuntime();
        await using var server = await StartAsync(runtime, idleTimeout: TimeSpan.FromSeconds(2));
        using var client = await ConnectAsync(server);

        for (var i = 0; i < 8; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            await runtime.Process.WriteOutputAsync($"tick {i}\n");
        }

        runtime.Process.Exit(0);
        var ended = await ReceiveUntilEndAsync(client);

        Assert.Contains("tick 7", ended.Stdout, StringComparison.Ordinal);
        Assert.Contains("\"status\":\"Success\"", ended.Status, StringComparison.Ordinal);
    }

    private static async Task<StreamingServer> StartAsync(OneProcessRuntime runtime, TimeSpan idleTimeout)
    {
        var server = new StreamingServer(
            new StreamingServerOptions(IPAddress.Loopback, 0, TimeSpan.FromMinutes(1), idleTimeout),
            new StreamRequestCache(TimeProvider.System, TimeSpan.FromMinutes(1)),
            runtime,
            new StreamingSessions(),
            NullLoggerFactory.Instance);
        await server.StartAsync(CancellationToken.None);
        return server;
    }

    private static async Task<ClientWebSocket> ConnectAsync(StreamingServer server)
    {
        var url = server.UrlFor(new ExecStreamRequest("c1", ["sleep", "1000"], Tty: false, Stdin: false, Stdout: true, Stderr: false));
        var client = new ClientWebSocket();
        client.Options.AddSubProtocol("v5.channel.k8s.io");
        await client.ConnectAsync(new UriBuilder(url) { Scheme = "ws" }.Uri, CancellationToken.None);
        return client;
    }

    /// <summary>Stdout (channel 1) and the status (channel 3) until the server closes or drops the connection.</summary>
    private static async Task<(string Stdout, string? Status)> ReceiveUntilEndAsync(ClientWebSocket client)
    {
        var stdout = new System.Text.StringBuilder();
        string? status = null;
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                var result = await client.ReceiveAsync(buffer, timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                var text = System.Text.Encoding.UTF8.GetString(buffer, 1, result.Count - 1);
                if (buffer[0] == 1)
                {
                    stdout.Append(text);
                }
                else if (buffer[0] == 3)
                {
                    status = text;
                }
            }
        }
        catch (WebSocketException)
        {
            // Dropped without a close: how a session cut short ends.
        }

        return (stdout.ToString(), status);
    }

    private static async Task<int> OpenSessionsWhenSettledAsync(StreamingServer server)
    {
        for (var i = 0; i < 100 && server.Status().OpenSessions > 0; i++)
        {
            await Task.Delay(100);
        }

        return server.Status().OpenSessions;
    }

    private sealed class OneProcessRuntime : IStreamingRuntime
    {
        public FakeProcess Process { get; } = new();

        public Task<IInteractiveProcess> ExecAsync(ExecStreamRequest request, CancellationToken cancellationToken) => Task.FromResult<IInteractiveProcess>(Process);

        public Task<IInteractiveProcess> AttachAsync(AttachStreamRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IPodPortConnection> OpenPortAsync(string sandboxId, int port, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    /// <summary>A process that writes what the test tells it and exits when told; disposing it before that is killing it.</summary>
    private sealed class FakeProcess : IInteractiveProcess
    {
        private readonly Channel<ProcessOutput> _output = Channel.CreateUnbounded<ProcessOutput>();

        public TaskCompletionSource<int> Exited { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Disposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Tty => false;

        public ChannelReader<ProcessOutput> Output => _output.Reader;

        Task<int> IInteractiveProcess.Exited => Exited.Task;

        public ValueTask WriteOutputAsync(string text) => _output.Writer.WriteAsync(new ProcessOutput(false, System.Text.Encoding.UTF8.GetBytes(text)));

        public void Exit(int code)
        {
            Exited.TrySetResult(code);
            _output.Writer.TryComplete();
        }

        public Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => Task.CompletedTask;

        public Task CloseStdinAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task ResizeAsync(uint columns, uint rows, CancellationToken cancellationToken) => Task.CompletedTask;

        public ValueTask DisposeAsync()
        {
            Disposed.TrySetResult();
            _output.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }
    }
}
