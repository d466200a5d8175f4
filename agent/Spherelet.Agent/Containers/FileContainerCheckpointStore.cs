using System.Text.Json;
using Spherelet.Agent.Persistence;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Agent.Containers;

/// <summary>
/// Container checkpoints as <c>&lt;Root&gt;/pods/SANDBOX/containers/ID.json</c> (removed with the pod's
/// directory), each written atomically (<see cref="AtomicFile"/>).
/// </summary>
public sealed class FileContainerCheckpointStore : IContainerCheckpointStore
{
    public const int CurrentVersion = 1;

    private readonly SandboxLayout _layout;

    public FileContainerCheckpointStore(SandboxLayout layout)
    {
        _layout = layout;
    }

    public Task SaveAsync(Container container, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(container);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new ContainerCheckpoint(CurrentVersion, container), ContainerCheckpointJson.Default.ContainerCheckpoint);
        return AtomicFile.WriteAsync(_layout.ContainerCheckpoint(container.SandboxId, container.Id), bytes, cancellationToken);
    }

    public Task DeleteAsync(Container container, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(container);
        File.Delete(_layout.ContainerCheckpoint(container.SandboxId, container.Id));
        return Task.CompletedTask;
    }

    public async Task<(IReadOnlyList<Container> Containers, IReadOnlyList<string> Problems)> LoadAllAsync(CancellationToken cancellationToken)
    {
        var containers = new List<Container>();
        var problems = new List<string>();
        if (!Directory.Exists(_layout.PodsDirectory))
        {
            return (containers, problems);
        }

        foreach (var pod in Directory.EnumerateDirectories(_layout.PodsDirectory))
        {
            var sandboxId = Path.GetFileName(pod);
            var directory = _layout.ContainersDirectory(sandboxId);
            if (!Directory.Exists(directory))
            {
                continue;
            }

            foreach (var path in Directory.EnumerateFiles(directory, "*.json"))
            {
                var id = Path.GetFileNameWithoutExtension(path);
                var checkpoint = await CheckpointFile.ReadAsync(path, ContainerCheckpointJson.Default.ContainerCheckpoint, c => c.Version, CurrentVersion, problems, cancellationToken);
                if (checkpoint is null)
                {
                    continue;
                }

                if (checkpoint.Container.Id != id || checkpoint.Container.SandboxId != sandboxId)
                {
                    problems.Add($"{path}: holds container {checkpoint.Container.Id} of {checkpoint.Container.SandboxId}; left alone");
                }
                else
                {
                    containers.Add(checkpoint.Container);
                }
            }
        }

        return (containers, problems);
    }
}
