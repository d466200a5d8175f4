using Spherelet.Domain.Sandboxes;

namespace Spherelet.Tests.Sandboxes;

/// <summary>
/// Records what would be bound in each pod share instead of mounting (the real shares are tested
/// as root in the integration tests); makes and deletes the pod directory as the real one does.
/// Keys are "SANDBOX:PATH IN THE SHARE".
/// </summary>
internal sealed class FakePodShares : IPodShares
{
    private readonly SandboxLayout _layout;

    public FakePodShares(SandboxLayout layout)
    {
        _layout = layout;
    }

    public Dictionary<string, string> Bound { get; } = new(StringComparer.Ordinal);

    public HashSet<string> ReadOnly { get; } = new(StringComparer.Ordinal);

    public HashSet<string> RecursiveReadOnly { get; } = new(StringComparer.Ordinal);

    public HashSet<string> FollowHost { get; } = new(StringComparer.Ordinal);

    public HashSet<string> Created { get; } = new(StringComparer.Ordinal);

    public static string Key(string sandboxId, string inShare) => $"{sandboxId}:{inShare}";

    public System.Collections.Concurrent.ConcurrentDictionary<string, Spherelet.Domain.Vmm.VmIdMap> IdMaps { get; } = new(StringComparer.Ordinal);

    public Task CreateAsync(string sandboxId, Spherelet.Domain.Vmm.VmIdMap? idMap, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_layout.Share(sandboxId));
        Created.Add(sandboxId);
        Adopt(sandboxId, idMap);
        return Task.CompletedTask;
    }

    public void Adopt(string sandboxId, Spherelet.Domain.Vmm.VmIdMap? idMap)
    {
        if (idMap is not null)
        {
            IdMaps[sandboxId] = idMap;
        }
    }

    public Task<VolumeBind> BindVolumeAsync(string sandboxId, string containerId, int index, string hostPath, BindAccess access, bool followHost, CancellationToken cancellationToken)
    {
        var inShare = $"{SandboxLayout.VolumesDirectoryName}/{containerId}/{index}";
        var key = Key(sandboxId, inShare);
        Bound[key] = hostPath;
        if (access != BindAccess.ReadWrite)
        {
            ReadOnly.Add(key);
        }

        if (access == BindAccess.RecursiveReadOnly)
        {
            RecursiveReadOnly.Add(key);
        }

        if (followHost)
        {
            FollowHost.Add(key);
        }

        return Task.FromResult(new VolumeBind(inShare, []));
    }

    public Task UnbindVolumesAsync(string sandboxId, string containerId)
    {
        Unbind(Key(sandboxId, $"{SandboxLayout.VolumesDirectoryName}/{containerId}/"));
        return Task.CompletedTask;
    }

    public Task BindLayersAsync(string sandboxId, IReadOnlyList<string> layers, CancellationToken cancellationToken)
    {
        foreach (var layer in layers)
        {
            Bound[Key(sandboxId, $"{SandboxLayout.LayersDirectoryName}/{layer}")] = layer;
        }

        return Task.CompletedTask;
    }

    public Task RemoveAsync(string sandboxId)
    {
        Unbind(Key(sandboxId, string.Empty));
        Created.Remove(sandboxId);
        if (Directory.Exists(_layout.PodDirectory(sandboxId)))
        {
            Directory.Delete(_layout.PodDirectory(sandboxId), recursive: true);
        }

        return Task.CompletedTask;
    }

    private void Unbind(string prefix)
    {
        foreach (var key in Bound.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
        {
            Bound.Remove(key);
        }
    }
}
