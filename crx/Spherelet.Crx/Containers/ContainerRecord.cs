using System.Collections.Concurrent;

namespace Spherelet.Crx.Containers;

/// <summary>A container CRX created: its bundle, its cgroup, its main process and its execs.</summary>
internal sealed class ContainerRecord(string id, string bundle, string cgroupPath, GuestProcess main)
{
    public string Id { get; } = id;

    public string Bundle { get; } = bundle;

    /// <summary>The cgroup below /sys/fs/cgroup, for example /spherelet/ID.</summary>
    public string CgroupPath { get; } = cgroupPath;

    public GuestProcess Main { get; } = main;

    public bool Started { get; set; }

    /// <summary>The root file system CRX mounted for it, if it did.</summary>
    public RootfsMount? Rootfs { get; init; }

    public ConcurrentDictionary<string, GuestProcess> Execs { get; } = new(StringComparer.Ordinal);
}
