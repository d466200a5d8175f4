using Spherelet.Domain.Sandboxes;

namespace Spherelet.Tests.Sandboxes;

/// <summary>Records bind mounts instead of making them (the real ones are tested as root).</summary>
internal sealed class FakeMounts : IHostMounts
{
    public Dictionary<string, string> Bound { get; } = new(StringComparer.Ordinal);

    public HashSet<string> ReadOnly { get; } = new(StringComparer.Ordinal);

    public HashSet<string> RecursiveReadOnly { get; } = new(StringComparer.Ordinal);

    public Task BindAsync(string source, string target, BindAccess access, bool followHost, CancellationToken cancellationToken)
    {
        Bound[target] = source;
        if (access != BindAccess.ReadWrite)
        {
            ReadOnly.Add(target);
        }

        if (access == BindAccess.RecursiveReadOnly)
        {
            RecursiveReadOnly.Add(target);
        }

        return Task.CompletedTask;
    }

    public HashSet<string> Shared { get; } = new(StringComparer.Ordinal);

    public Task MakeSharedAsync(string directory)
    {
        Shared.Add(directory);
        return Task.CompletedTask;
    }

    public Task UnmountAllUnderAsync(string path)
    {
        foreach (var target in Bound.Keys.Where(t => t.StartsWith(path, StringComparison.Ordinal)).ToList())
        {
            Bound.Remove(target);
        }

        return Task.CompletedTask;
    }
}
