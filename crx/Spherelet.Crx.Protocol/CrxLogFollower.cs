using System.Threading.Channels;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Protocol;

/// <summary>
/// A container's log as CRX streams it (FollowLog): batches of entries, oldest first, ending with
/// one marked end. CRX may not send more than the window unacknowledged (and one entry past it),
/// so this holds that much at most: a guest that sends more, an entry longer than a CRI line can
/// be, or more batches than that allows, ends the stream with an error (for this container only).
/// Acknowledge each batch once it is written.
/// </summary>
public sealed class CrxLogFollower : IAsyncDisposable
{
    private const int QueuedBatches = 64;

    /// <summary>The longest entry taken: CRX cuts lines at 16 KiB, and its drop notice is short.</summary>
    private const int MaxEntryBytes = 64 * 1024;

    private readonly Lock _gate = new();
    private readonly Queue<(ulong Last, long Bytes)> _unacknowledged = new();
    private long _outstanding;

    private readonly CrxClient _client;
    private readonly Channel<LogBatch> _batches = Channel.CreateBounded<LogBatch>(new BoundedChannelOptions(QueuedBatches) { SingleReader = true, SingleWriter = true });

    internal CrxLogFollower(CrxClient client, ulong streamId, string containerId, uint windowBytes)
    {
        _client = client;
        StreamId = streamId;
        ContainerId = containerId;
        WindowBytes = windowBytes;
    }

    public ulong StreamId { get; }

    public string ContainerId { get; }

    public uint WindowBytes { get; }

    /// <summary>The batches; the reader ends after the batch marked end, or with the error that broke the stream.</summary>
    public ChannelReader<LogBatch> Batches => _batches.Reader;

    /// <summary>Tells CRX that every entry up to <paramref name="sequence"/> is written.</summary>
    public Task AcknowledgeAsync(ulong sequence, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            while (_unacknowledged.TryPeek(out var batch) && batch.Last <= sequence)
            {
                _outstanding -= _unacknowledged.Dequeue().Bytes;
            }
        }

        return _client.CallAsync(new Request { AckLog = new AckLog { ContainerId = ContainerId, Sequence = sequence } }, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _batches.Writer.TryComplete();
        await _client.StopLogAsync(this);
    }

    internal void OnBatch(LogBatch batch)
    {
        var bytes = batch.Entries.Sum(e => (long)e.Content.Length);
        long outstanding;
        lock (_gate)
        {
            _outstanding += bytes;
            outstanding = _outstanding;
            if (batch.Entries.Count > 0)
            {
                _unacknowledged.Enqueue((batch.Entries[^1].Sequence, bytes));
            }
        }

        if (batch.Entries.Any(e => e.Content.Length > MaxEntryBytes))
        {
            Fail($"CRX sent a log entry longer than {MaxEntryBytes} bytes");
        }
        else if (outstanding > WindowBytes + MaxEntryBytes)
        {
            Fail($"CRX sent {outstanding} bytes of log not acknowledged yet, beyond the window of {WindowBytes}");
        }
        else if (!_batches.Writer.TryWrite(batch))
        {
            Fail($"CRX sent more than {QueuedBatches} log batches without waiting for acknowledgements");
        }
        else if (batch.End)
        {
            _batches.Writer.TryComplete();
        }
    }

    internal void OnLost(Exception reason) => _batches.Writer.TryComplete(reason);

    private void Fail(string why) => _batches.Writer.TryComplete(new CrxCallException(CrxProtocol.Codes.Internal, why));
}
