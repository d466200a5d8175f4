using System.Threading.Channels;
using Google.Protobuf;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Protocol;

/// <summary>
/// A process in the guest whose stdio is attached to the host: its output arrives on
/// <see cref="Output"/> in order, its exit on <see cref="Exited"/>.
/// </summary>
public sealed class CrxProcess
{
    private readonly CrxClient _client;
    private readonly Channel<StreamData> _output = Channel.CreateUnbounded<StreamData>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource<ProcessExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal CrxProcess(CrxClient client, ulong streamId, string containerId, string execId)
    {
        _client = client;
        StreamId = streamId;
        ContainerId = containerId;
        ExecId = execId;
    }

    public ulong StreamId { get; }

    public string ContainerId { get; }

    /// <summary>Empty for a container's main process.</summary>
    public string ExecId { get; }

    public int Pid { get; internal set; }

    /// <summary>stdout and stderr chunks, in the order the guest read them; completes after the process exited.</summary>
    public ChannelReader<StreamData> Output => _output.Reader;

    public Task<ProcessExit> Exited => _exited.Task;

    public Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _client.SendStreamAsync(StreamId, new StreamData { Kind = StreamKind.Stdin, Data = ByteString.CopyFrom(data.Span) }, cancellationToken);

    public Task CloseStdinAsync(CancellationToken cancellationToken) =>
        _client.SendStreamAsync(StreamId, new StreamData { Kind = StreamKind.Stdin, Eof = true }, cancellationToken);

    /// <summary>Sets the window size of the process's terminal.</summary>
    /// <exception cref="CrxCallException">FAILED_PRECONDITION: the process has no terminal.</exception>
    public Task ResizeAsync(uint columns, uint rows, CancellationToken cancellationToken) =>
        _client.CallAsync(
            new Request { Resize = new ResizeTerminal { ContainerId = ContainerId, ExecId = ExecId, Width = columns, Height = rows } },
            cancellationToken);

    /// <summary>
    /// Stops streaming this process to the host; the process runs on (a process started with
    /// stdin_once gets end-of-file on stdin). <see cref="Output"/> completes.
    /// </summary>
    public Task DetachAsync(CancellationToken cancellationToken) => _client.DetachAsync(this, cancellationToken);

    /// <summary>Reads all output until the process exits: (stdout, stderr, exit).</summary>
    public async Task<(string Stdout, string Stderr, ProcessExit Exit)> CollectAsync(CancellationToken cancellationToken)
    {
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        await foreach (var chunk in Output.ReadAllAsync(cancellationToken))
        {
            (chunk.Kind == StreamKind.Stderr ? stderr : stdout).Write(chunk.Data.Span);
        }

        var exit = await Exited.WaitAsync(cancellationToken);
        return (System.Text.Encoding.UTF8.GetString(stdout.ToArray()), System.Text.Encoding.UTF8.GetString(stderr.ToArray()), exit);
    }

    internal void OnData(StreamData data) => _output.Writer.TryWrite(data);

    internal void OnExit(ProcessExit exit)
    {
        _exited.TrySetResult(exit);
        _output.Writer.TryComplete();
    }

    internal void OnDetached()
    {
        _exited.TrySetCanceled();
        _output.Writer.TryComplete();
    }

    internal void OnLost(Exception error)
    {
        _exited.TrySetException(error);
        _output.Writer.TryComplete(error);
    }
}
