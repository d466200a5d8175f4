namespace Spherelet.Domain.Containers;

/// <summary>Resource usage of a container or of a whole pod VM, read from the guest's cgroups.</summary>
/// <param name="CpuNanoseconds">Cumulative CPU time.</param>
/// <param name="WorkingSetBytes">Memory in use less what the kernel can reclaim at once (inactive file pages).</param>
/// <param name="Timestamp">Unix nanoseconds when it was read.</param>
/// <param name="WritableBytes">Bytes in the container's writable layer (0 for a VM).</param>
/// <param name="WritableInodes">Inodes in the container's writable layer (0 for a VM).</param>
public sealed record ResourceUsage(
    ulong CpuNanoseconds,
    ulong MemoryUsageBytes,
    ulong WorkingSetBytes,
    ulong Processes,
    long Timestamp,
    ulong WritableBytes = 0,
    ulong WritableInodes = 0)
{
    /// <summary>CPU time in user and in system mode.</summary>
    public ulong CpuUserNanoseconds { get; init; }

    public ulong CpuSystemNanoseconds { get; init; }

    /// <summary>CFS enforcement periods, those in which the cgroup was throttled, and the time it was.</summary>
    public ulong CpuPeriods { get; init; }

    public ulong CpuThrottledPeriods { get; init; }

    public ulong CpuThrottledNanoseconds { get; init; }

    /// <summary>Anonymous memory.</summary>
    public ulong RssBytes { get; init; }

    /// <summary>Page cache (file-backed memory).</summary>
    public ulong CacheBytes { get; init; }

    public ulong MappedFileBytes { get; init; }

    public ulong SwapBytes { get; init; }

    /// <summary>The most memory the cgroup has used (memory.peak; 0 where the guest kernel has none).</summary>
    public ulong MaxUsageBytes { get; init; }

    public ulong OomKills { get; init; }

    public ulong PageFaults { get; init; }

    public ulong MajorPageFaults { get; init; }

    public ulong IoReadBytes { get; init; }

    public ulong IoWriteBytes { get; init; }
}
