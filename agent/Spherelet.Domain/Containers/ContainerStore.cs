using Spherelet.Domain.State;

namespace Spherelet.Domain.Containers;

/// <summary>The containers in memory, each change checkpointed before it becomes visible (see <see cref="ObjectStore{T}"/>).</summary>
public sealed class ContainerStore : ObjectStore<Container>
{
    public ContainerStore(IContainerCheckpointStore checkpoints)
        : base("container", c => c.Id, checkpoints.SaveAsync, checkpoints.DeleteAsync)
    {
    }

    public IReadOnlyList<Container> List(ContainerFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Where(filter.Matches).OrderBy(c => c.CreatedAt).ToList();
    }
}
