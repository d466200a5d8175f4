namespace Spherelet.Domain.Sandboxes;

/// <summary>Durable sandbox checkpoints: each write is atomic, so a crash leaves the old or the new one.</summary>
public interface ISandboxCheckpointStore
{
    Task SaveAsync(PodSandbox sandbox, CancellationToken cancellationToken);

    /// <summary>Deletes the checkpoint; a missing one is fine.</summary>
    Task DeleteAsync(string sandboxId, CancellationToken cancellationToken);

    /// <summary>Every readable checkpoint; unreadable ones are reported in <c>Problems</c> and skipped.</summary>
    Task<(IReadOnlyList<PodSandbox> Sandboxes, IReadOnlyList<string> Problems)> LoadAllAsync(CancellationToken cancellationToken);
}
