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

    internal CrxProcess(CrxClient client, ulong streamId)
    {
        _client = client;
        StreamId = streamId;
    }

    public ulong StreamId { get; }

    public int Pid { get; internal set; }

    /// <summary>stdout and stderr chunks, in the order the guest read them; completes after the process exited.</summary>
    public ChannelReader<StreamData> Output => _output.Reader;

    public Task<ProcessExit> Exited => _exited.Task;

    public Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _client.SendStreamAsync(StreamId, new StreamData { Kind = StreamKind.Stdin, Data = ByteString.CopyFrom(data.Span) }, cancellationToken);

    public Task CloseStdinAsync(CancellationToken cancellationToken) =>
        _client.SendStreamAsync(StreamId, new StreamData { Kind = StreamKind.Stdin, Eof = true }, cancellationToken);

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

    internal void OnLost(Exception error)
    {
        _exited.TrySetException(error);
        _output.Writer.TryComplete(error);
    }
}
