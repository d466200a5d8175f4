namespace Spherelet.Domain.Containers;

/// <summary>How a container's process ended, as CRX saw it.</summary>
/// <param name="ExitCode">The exit status, or 128 + the signal that ended it.</param>
/// <param name="Signal">The signal that ended it, 0 when it exited.</param>
/// <param name="StartedAt">Unix nanoseconds, on the VM's clock (which is not quite the host's).</param>
/// <param name="FinishedAt">Unix nanoseconds, on the VM's clock.</param>
/// <param name="FinishedAgo">How long before the answer the process exited (measured in the VM, immune to its clock's steps).</param>
public sealed record ContainerExit(int ExitCode, int Signal, bool OomKilled, long StartedAt, long FinishedAt, TimeSpan FinishedAgo = default);
