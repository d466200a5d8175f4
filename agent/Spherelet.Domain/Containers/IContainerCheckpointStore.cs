namespace Spherelet.Domain.Containers;

/// <summary>Durable container checkpoints: each write is atomic, so a crash leaves the old or the new one.</summary>
public interface IContainerCheckpointStore
{
    Task SaveAsync(Container container, CancellationToken cancellationToken);

    /// <summary>Deletes the checkpoint; a missing one is fine.</summary>
    Task DeleteAsync(Container container, CancellationToken cancellationToken);

    /// <summary>Every readable checkpoint; unreadable ones are reported in <c>Problems</c> and skipped.</summary>
    Task<(IReadOnlyList<Container> Containers, IReadOnlyList<string> Problems)> LoadAllAsync(CancellationToken cancellationToken);
}
