using Spherelet.Crx.Native;

namespace Spherelet.Crx.Guest;

/// <summary>PID 1 duties at boot: the file systems a pod VM needs, cgroup v2 controllers, the pod share.</summary>
internal static class GuestInit
{
    private static readonly (string Source, string Target, string Type, nuint Flags, string? Data)[] Mounts =
    [
        ("proc", "/proc", "proc", Sys.MS_NOSUID | Sys.MS_NODEV | Sys.MS_NOEXEC, null),
        ("sysfs", "/sys", "sysfs", Sys.MS_NOSUID | Sys.MS_NODEV | Sys.MS_NOEXEC, null),
        ("devtmpfs", "/dev", "devtmpfs", Sys.MS_NOSUID, "mode=0755"),
        ("devpts", "/dev/pts", "devpts", Sys.MS_NOSUID | Sys.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"),
        ("shm", "/dev/shm", "tmpfs", Sys.MS_NOSUID | Sys.MS_NODEV, "mode=1777"),
        // The pod's POSIX message queues: what containers in a user namespace are given (they cannot mount the VM's IPC namespace's).
        ("mqueue", "/dev/mqueue", "mqueue", Sys.MS_NOSUID | Sys.MS_NODEV | Sys.MS_NOEXEC, null),
        ("cgroup2", "/sys/fs/cgroup", "cgroup2", Sys.MS_NOSUID | Sys.MS_NODEV | Sys.MS_NOEXEC | Sys.MS_RELATIME, null),
        ("run", "/run", "tmpfs", Sys.MS_NOSUID | Sys.MS_NODEV, "mode=0755"),
        ("tmp", "/tmp", "tmpfs", Sys.MS_NOSUID | Sys.MS_NODEV, "mode=1777"),
    ];

    public static void MountFileSystems()
    {
        foreach (var (source, target, type, flags, data) in Mounts)
        {
            Directory.CreateDirectory(target);
            if (Sys.mount(source, target, type, flags, data) != 0)
            {
                CrxLog.Warn($"mount {type} on {target} failed: {Sys.LastError()}");
            }
        }

        if (!File.Exists("/dev/ptmx") && File.Exists("/dev/pts/ptmx"))
        {
            File.CreateSymbolicLink("/dev/ptmx", "pts/ptmx");
        }

        foreach (var (link, target) in new[] { ("/dev/fd", "/proc/self/fd"), ("/dev/stdin", "/proc/self/fd/0"), ("/dev/stdout", "/proc/self/fd/1"), ("/dev/stderr", "/proc/self/fd/2") })
        {
            if (!File.Exists(link) && !Directory.Exists(link))
            {
                File.CreateSymbolicLink(link, target);
            }
        }

        EnableCgroupControllers();
    }

    /// <summary>
    /// Mounts the 9p pod share at /pod. The host decides what of it is writable (only the writable
    /// volumes); inside the VM, setuid files of image layers work as in any container.
    /// </summary>
    public static void MountShare(string tag, string mountPoint)
    {
        Directory.CreateDirectory(mountPoint);
        if (Sys.mount(tag, mountPoint, "9p", 0, "trans=virtio,version=9p2000.L,msize=262144,cache=mmap,access=client") != 0)
        {
            CrxLog.Warn($"mount of the 9p share '{tag}' at {mountPoint} failed: {Sys.LastError()}");
        }
    }

    /// <summary>CLOCK_BOOTTIME: time since the kernel started.</summary>
    public static TimeSpan SinceBoot()
    {
        Sys.clock_gettime(Sys.CLOCK_BOOTTIME, out var now);
        return TimeSpan.FromTicks((now.Seconds * TimeSpan.TicksPerSecond) + (now.Nanoseconds / 100));
    }

    private static void EnableCgroupControllers()
    {
        try
        {
            var available = File.ReadAllText("/sys/fs/cgroup/cgroup.controllers").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            File.WriteAllText("/sys/fs/cgroup/cgroup.subtree_control", string.Join(' ', available.Select(c => "+" + c)));
        }
        catch (IOException e)
        {
            CrxLog.Warn("cannot enable cgroup controllers: " + e.Message);
        }
    }
}
