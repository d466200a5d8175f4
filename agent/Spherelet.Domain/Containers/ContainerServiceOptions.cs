namespace Spherelet.Domain.Containers;

/// <summary>Limits of the container operations.</summary>
public sealed record ContainerServiceOptions
{
    /// <summary>ExecSync keeps at most this many bytes of each of stdout and stderr (the kubelet's messages are at most 16 MiB).</summary>
    public int ExecOutputLimitBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>How long StopContainer waits for a process to die after SIGKILL before it gives up.</summary>
    public TimeSpan KillWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a container's exit watcher waits before it asks a guest that could not be reached again.</summary>
    public TimeSpan WatchRetry { get; init; } = TimeSpan.FromSeconds(1);
}
