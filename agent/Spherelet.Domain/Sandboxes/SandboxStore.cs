using Spherelet.Domain.State;

namespace Spherelet.Domain.Sandboxes;

/// <summary>The sandboxes in memory, each change checkpointed before it becomes visible (see <see cref="ObjectStore{T}"/>).</summary>
public sealed class SandboxStore : ObjectStore<PodSandbox>
{
    public SandboxStore(ISandboxCheckpointStore checkpoints)
        : base(
            "pod sandbox",
            s => s.Id,
            (s, token) => checkpoints.SaveAsync(s, token),
            (s, token) => checkpoints.DeleteAsync(s.Id, token))
    {
    }

    public PodSandbox? FindByVmName(string vmName) => Where(s => s.VmName == vmName).FirstOrDefault();

    public IReadOnlyList<PodSandbox> List(SandboxFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return Where(filter.Matches).OrderBy(s => s.CreatedAt).ToList();
    }
}
