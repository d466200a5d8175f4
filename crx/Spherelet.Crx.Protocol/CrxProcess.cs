using System.Threading.Channels;
using Google.Protobuf;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Protocol;

/// <summary>
/// A process in the guest whose stdio is attached to the host: its output arrives on
/// <see cref="Output"/> in order, its exit on <see cref="Exited"/>. Both directions are flow
/// controlled: at most a window of output is held here (what is read from <see cref="Output"/>
/// is credited back to CRX; a guest that sends more loses the stream), and stdin waits for CRX's
/// credit.
/// </summary>
public sealed class CrxProcess
{
    private readonly CrxClient _client;
    private readonly Channel<StreamData> _output = Channel.CreateUnbounded<StreamData>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly TaskCompletionSource<ProcessExit> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StreamInbox _inbox = new();
    private readonly StreamWindow _stdin = new();

    internal CrxProcess(CrxClient client, ulong streamId, string containerId, string execId)
    {
        _client = client;
        StreamId = streamId;
        ContainerId = containerId;
        ExecId = execId;
        Output = new CreditingReader(this);
    }

    public ulong StreamId { get; }

    public string ContainerId { get; }

    /// <summary>Empty for a container's main process.</summary>
    public string ExecId { get; }

    public int Pid { get; internal set; }

    /// <summary>stdout and stderr chunks, in the order the guest read them; completes after the process exited.</summary>
    public ChannelReader<StreamData> Output { get; }

    public Task<ProcessExit> Exited => _exited.Task;

    /// <summary>Sends <paramref name="data"/> to the process's stdin, in chunks, each once CRX has room for it.</summary>
    /// <exception cref="CrxConnectionLostException">The stream is gone.</exception>
    public async Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            var chunk = data[..Math.Min(data.Length, StreamWindow.MaxChunkBytes)];
            if (!await _stdin.TakeAsync(chunk.Length, cancellationToken))
            {
                throw new CrxConnectionLostException("the stream to the process is closed");
            }

            await _client.SendStreamAsync(StreamId, new StreamData { Kind = StreamKind.Stdin, Data = ByteString.CopyFrom(chunk.Span) }, cancellationToken);
            data = data[chunk.Length..];
        }
    }

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

    /// <summary>Output from CRX; false when it goes beyond the window (the stream is then failed).</summary>
    internal bool OnData(StreamData data)
    {
        if (!_inbox.Receive(data.Data.Length))
        {
            OnLost(new CrxCallException(CrxProtocol.Codes.Internal, $"CRX sent more than the stream's window of {StreamWindow.InitialBytes} bytes without waiting for credit"));
            return false;
        }

        _output.Writer.TryWrite(data);
        return true;
    }

    internal void OnCredit(ulong bytes) => _stdin.Give(bytes);

    internal void OnExit(ProcessExit exit)
    {
        _exited.TrySetResult(exit);
        _output.Writer.TryComplete();
        _stdin.Close();
    }

    internal void OnDetached()
    {
        _exited.TrySetCanceled();
        _output.Writer.TryComplete();
        _stdin.Close();
    }

    internal void OnLost(Exception error)
    {
        _exited.TrySetException(error);
        _output.Writer.TryComplete(error);
        _stdin.Close();
    }

    private void OnConsumed(int bytes)
    {
        var credit = _inbox.Consume(bytes);
        if (credit > 0 && !_exited.Task.IsCompleted)
        {
            _ = _client.SendCreditAsync(StreamId, (ulong)credit);
        }
    }

    /// <summary>The output channel's reader, crediting CRX for each chunk taken.</summary>
    private sealed class CreditingReader(CrxProcess owner) : ChannelReader<StreamData>
    {
        public override Task Completion => owner._output.Reader.Completion;

        public override bool TryRead([System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out StreamData item)
        {
            if (!owner._output.Reader.TryRead(out item))
            {
                return false;
            }

            owner.OnConsumed(item.Data.Length);
            return true;
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
            owner._output.Reader.WaitToReadAsync(cancellationToken);
    }
}
