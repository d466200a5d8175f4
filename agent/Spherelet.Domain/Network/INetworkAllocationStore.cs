namespace Spherelet.Domain.Network;

/// <summary>Durable network allocations: each save is atomic, so a crash leaves the old or the new value.</summary>
public interface INetworkAllocationStore
{
    /// <returns>What was saved last, or null when nothing was.</returns>
    Task<NetworkAllocations?> LoadAsync(CancellationToken cancellationToken);

    Task SaveAsync(NetworkAllocations allocations, CancellationToken cancellationToken);
}
