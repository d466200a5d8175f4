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
    ulong WritableInodes = 0);
