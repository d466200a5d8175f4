using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Spherelet.Domain.Containers;

namespace Spherelet.Tests.Containers;

/// <summary>A container's log spool as a test feeds it: batches pushed are what the guest streams; acknowledgements are recorded.</summary>
internal sealed class FakeGuestLog : IGuestLog
{
    private readonly Channel<GuestLogBatch> _batches = Channel.CreateUnbounded<GuestLogBatch>();
    private long _nextTime = 1_764_000_000_000_000_000;
    private ulong _nextSequence;

    public ulong Acknowledged { get; private set; }

    public int Follows { get; set; }

    /// <summary>Entries of stdout with increasing sequence numbers and times, one per line.</summary>
    public IReadOnlyList<GuestLogEntry> Push(bool end, params string[] lines)
    {
        var entries = lines.Select(l => new GuestLogEntry(++_nextSequence, _nextTime += 1000, false, false, System.Text.Encoding.UTF8.GetBytes(l))).ToList();
        _batches.Writer.TryWrite(new GuestLogBatch(entries, end));
        return entries;
    }

    /// <summary>Streams these entries again (what a guest does for entries it was never told were written).</summary>
    public void Replay(IReadOnlyList<GuestLogEntry> entries) => _batches.Writer.TryWrite(new GuestLogBatch(entries, false));

    public async IAsyncEnumerable<GuestLogBatch> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (await _batches.Reader.WaitToReadAsync(cancellationToken))
        {
            while (_batches.Reader.TryRead(out var batch))
            {
                yield return batch;
                if (batch.End)
                {
                    yield break;
                }
            }
        }
    }

    public Task AcknowledgeAsync(ulong sequence, CancellationToken cancellationToken)
    {
        Acknowledged = sequence;
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
