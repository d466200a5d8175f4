namespace Spherelet.Domain.Containers;

/// <summary>
/// A container's log as its pod's CRX streams it: the entries not acknowledged yet (again after a
/// reconnect), then new ones, with a bounded window of unacknowledged bytes.
/// </summary>
public interface IGuestLog : IAsyncDisposable
{
    /// <summary>The batches, until the one marked end; throws <see cref="Errors.GuestUnavailableException"/> when the channel is lost or the guest breaks the stream.</summary>
    IAsyncEnumerable<GuestLogBatch> ReadAllAsync(CancellationToken cancellationToken);

    /// <summary>Every entry up to <paramref name="sequence"/> is written on the host: the guest may drop them.</summary>
    Task AcknowledgeAsync(ulong sequence, CancellationToken cancellationToken);
}
