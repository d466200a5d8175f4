using System.Runtime.CompilerServices;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;
using Spherelet.Domain.Containers;

namespace Spherelet.Guest;

/// <summary>A container's log as CRX streams it (<see cref="CrxLogFollower"/>), in the domain's terms and errors.</summary>
internal sealed class GuestLog : IGuestLog
{
    private readonly CrxLogFollower _follower;
    private readonly string _podId;

    public GuestLog(CrxLogFollower follower, string podId)
    {
        _follower = follower;
        _podId = podId;
    }

    public async IAsyncEnumerable<GuestLogBatch> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            var batch = await GuestErrors.GuardAsync(async () => await _follower.Batches.WaitToReadAsync(cancellationToken) && _follower.Batches.TryRead(out var read) ? read : null, _podId);
            if (batch is null)
            {
                yield break;
            }

            yield return new GuestLogBatch(
                batch.Entries.Select(e => new GuestLogEntry(e.Sequence, e.TimeUnixNanos, e.Stream == StreamKind.Stderr, e.Partial, e.Content.Memory)).ToList(),
                batch.End);
            if (batch.End)
            {
                yield break;
            }
        }
    }

    public Task AcknowledgeAsync(ulong sequence, CancellationToken cancellationToken) =>
        GuestErrors.GuardAsync(async () =>
        {
            await _follower.AcknowledgeAsync(sequence, cancellationToken);
            return 0;
        }, _podId);

    public ValueTask DisposeAsync() => _follower.DisposeAsync();
}
