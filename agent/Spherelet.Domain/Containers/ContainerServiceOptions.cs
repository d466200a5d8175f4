namespace Spherelet.Domain.Containers;

/// <summary>Limits of the container operations.</summary>
public sealed record ContainerServiceOptions
{
    /// <summary>ExecSync keeps at most this many bytes of each of stdout and stderr (the kubelet's messages are at most 16 MiB).</summary>
    public int ExecOutputLimitBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>How long StopContainer waits for a process to die after SIGKILL before it gives up.</summary>
    public TimeSpan KillWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How much output CRX keeps per container for the host to write into its log file (while the agent is away, say); the oldest goes when it is full.</summary>
    public long LogSpoolBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>How much log output a guest may send before the host has written and acknowledged it.</summary>
    public int LogWindowBytes { get; init; } = 1024 * 1024;

    /// <summary>How long node-wide statistics (ListContainerStats, ListPodSandboxStats) wait for one pod's guest before leaving it out.</summary>
    public TimeSpan NodeStatsDeadline { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a container's exit watcher waits before it asks a guest that could not be reached again.</summary>
    public TimeSpan WatchRetry { get; init; } = TimeSpan.FromSeconds(1);
}
