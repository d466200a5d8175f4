using System.Collections.Concurrent;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Tests.Sandboxes;

/// <summary>Checkpoints in memory (the file store has its own tests).</summary>
internal sealed class MemoryCheckpointStore : ISandboxCheckpointStore
{
    public ConcurrentDictionary<string, PodSandbox> Saved { get; } = new(StringComparer.Ordinal);

    public Task SaveAsync(PodSandbox sandbox, CancellationToken cancellationToken)
    {
        Saved[sandbox.Id] = sandbox;
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string sandboxId, CancellationToken cancellationToken)
    {
        Saved.TryRemove(sandboxId, out _);
        return Task.CompletedTask;
    }

    public Task<(IReadOnlyList<PodSandbox> Sandboxes, IReadOnlyList<string> Problems)> LoadAllAsync(CancellationToken cancellationToken) =>
        Task.FromResult<(IReadOnlyList<PodSandbox>, IReadOnlyList<string>)>((Saved.Values.ToList(), []));
}
