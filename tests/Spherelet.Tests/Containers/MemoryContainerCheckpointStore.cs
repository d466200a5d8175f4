using System.Collections.Concurrent;
using Spherelet.Domain.Containers;

namespace Spherelet.Tests.Containers;

/// <summary>Container checkpoints in memory (the file store has its own tests).</summary>
internal sealed class MemoryContainerCheckpointStore : IContainerCheckpointStore
{
    public ConcurrentDictionary<string, Container> Saved { get; } = new(StringComparer.Ordinal);

    public Task SaveAsync(Container container, CancellationToken cancellationToken)
    {
        Saved[container.Id] = container;
        return Task.CompletedTask;
    }

    public Task DeleteAsync(Container container, CancellationToken cancellationToken)
    {
        Saved.TryRemove(container.Id, out _);
        return Task.CompletedTask;
    }

    public Task<(IReadOnlyList<Container> Containers, IReadOnlyList<string> Problems)> LoadAllAsync(CancellationToken cancellationToken) =>
        Task.FromResult<(IReadOnlyList<Container>, IReadOnlyList<string>)>((Saved.Values.ToList(), []));
}
