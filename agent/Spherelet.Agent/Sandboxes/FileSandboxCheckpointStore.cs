using System.Text.Json;
using Spherelet.Agent.Persistence;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Agent.Sandboxes;

/// <summary>
/// Sandbox checkpoints as <c>&lt;Root&gt;/pods/ID/sandbox.json</c>, each written to a temporary
/// file, fsynced and renamed into place (<see cref="AtomicFile"/>).
/// </summary>
public sealed class FileSandboxCheckpointStore : ISandboxCheckpointStore
{
    public const int CurrentVersion = 1;

    private readonly SandboxLayout _layout;

    public FileSandboxCheckpointStore(SandboxLayout layout)
    {
        _layout = layout;
    }

    public Task SaveAsync(PodSandbox sandbox, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new SandboxCheckpoint(CurrentVersion, sandbox), SandboxCheckpointJson.Default.SandboxCheckpoint);
        return AtomicFile.WriteAsync(_layout.Checkpoint(sandbox.Id), bytes, cancellationToken);
    }

    public Task DeleteAsync(string sandboxId, CancellationToken cancellationToken)
    {
        File.Delete(_layout.Checkpoint(sandboxId));
        return Task.CompletedTask;
    }

    public async Task<(IReadOnlyList<PodSandbox> Sandboxes, IReadOnlyList<string> Problems)> LoadAllAsync(CancellationToken cancellationToken)
    {
        var sandboxes = new List<PodSandbox>();
        var problems = new List<string>();
        if (!Directory.Exists(_layout.PodsDirectory))
        {
            return (sandboxes, problems);
        }

        foreach (var directory in Directory.EnumerateDirectories(_layout.PodsDirectory))
        {
            var id = Path.GetFileName(directory);
            var path = _layout.Checkpoint(id);
            if (!File.Exists(path))
            {
                continue;
            }

            var checkpoint = await CheckpointFile.ReadAsync(path, SandboxCheckpointJson.Default.SandboxCheckpoint, c => c.Version, CurrentVersion, problems, cancellationToken);
            if (checkpoint is null)
            {
                continue;
            }

            if (checkpoint.Sandbox.Id != id)
            {
                problems.Add($"{path}: holds sandbox {checkpoint.Sandbox.Id}, not {id}; left alone");
            }
            else
            {
                sandboxes.Add(checkpoint.Sandbox);
            }
        }

        return (sandboxes, problems);
    }
}
