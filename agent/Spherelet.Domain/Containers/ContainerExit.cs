namespace Spherelet.Domain.Containers;

/// <summary>How a container's process ended, as CRX saw it.</summary>
/// <param name="ExitCode">The exit status, or 128 + the signal that ended it.</param>
/// <param name="Signal">The signal that ended it, 0 when it exited.</param>
/// <param name="StartedAt">Unix nanoseconds.</param>
/// <param name="FinishedAt">Unix nanoseconds.</param>
public sealed record ContainerExit(int ExitCode, int Signal, bool OomKilled, long StartedAt, long FinishedAt);
