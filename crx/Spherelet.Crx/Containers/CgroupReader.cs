using System.Globalization;

namespace Spherelet.Crx.Containers;

/// <summary>Reads resource usage from cgroup v2 files (mounted at /sys/fs/cgroup) and /proc.</summary>
internal static class CgroupReader
{
    public const string Root = "/sys/fs/cgroup";

    /// <summary>Usage of the cgroup at <paramref name="cgroupPath"/> (relative to the cgroup root).</summary>
    public static Protocol.V1.CgroupStats Read(string cgroupPath)
    {
        var dir = Path.Combine(Root, cgroupPath.TrimStart('/'));
        var memory = ReadNumber(Path.Combine(dir, "memory.current"));
        var memoryStat = Fields(Path.Combine(dir, "memory.stat"));
        var cpuStat = Fields(Path.Combine(dir, "cpu.stat"));
        var inactiveFile = memoryStat.GetValueOrDefault("inactive_file");
        var (read, written) = Io(Path.Combine(dir, "io.stat"));
        return new Protocol.V1.CgroupStats
        {
            CpuUsageNs = cpuStat.GetValueOrDefault("usage_usec") * 1000,
            CpuUserNs = cpuStat.GetValueOrDefault("user_usec") * 1000,
            CpuSystemNs = cpuStat.GetValueOrDefault("system_usec") * 1000,
            CpuPeriods = cpuStat.GetValueOrDefault("nr_periods"),
            CpuThrottledPeriods = cpuStat.GetValueOrDefault("nr_throttled"),
            CpuThrottledNs = cpuStat.GetValueOrDefault("throttled_usec") * 1000,
            MemoryUsageBytes = memory,
            MemoryWorkingSetBytes = memory > inactiveFile ? memory - inactiveFile : 0,
            MemoryRssBytes = memoryStat.GetValueOrDefault("anon"),
            MemoryCacheBytes = memoryStat.GetValueOrDefault("file"),
            MemoryMappedFileBytes = memoryStat.GetValueOrDefault("file_mapped"),
            MemorySwapBytes = ReadNumber(Path.Combine(dir, "memory.swap.current")),
            MemoryMaxUsageBytes = ReadNumber(Path.Combine(dir, "memory.peak")),
            OomKills = OomKills(cgroupPath),
            PageFaults = memoryStat.GetValueOrDefault("pgfault"),
            MajorPageFaults = memoryStat.GetValueOrDefault("pgmajfault"),
            Pids = ReadNumber(Path.Combine(dir, "pids.current")),
            IoReadBytes = read,
            IoWriteBytes = written,
            Timestamp = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100,
        };
    }

    /// <summary>The whole VM: CPU from the root cgroup, memory from /proc/meminfo and /proc/vmstat, every process.</summary>
    public static (Protocol.V1.CgroupStats Stats, ulong MemoryTotal) Vm()
    {
        var meminfo = Fields("/proc/meminfo");
        var vmstat = Fields("/proc/vmstat");
        var cpuStat = Fields(Path.Combine(Root, "cpu.stat"));
        var total = meminfo.GetValueOrDefault("MemTotal:") * 1024;
        var available = meminfo.GetValueOrDefault("MemAvailable:") * 1024;
        var used = total > available ? total - available : 0;
        var swapTotal = meminfo.GetValueOrDefault("SwapTotal:") * 1024;
        var swapFree = meminfo.GetValueOrDefault("SwapFree:") * 1024;
        var (read, written) = Io(Path.Combine(Root, "io.stat"));
        var stats = new Protocol.V1.CgroupStats
        {
            CpuUsageNs = cpuStat.GetValueOrDefault("usage_usec") * 1000,
            CpuUserNs = cpuStat.GetValueOrDefault("user_usec") * 1000,
            CpuSystemNs = cpuStat.GetValueOrDefault("system_usec") * 1000,
            MemoryUsageBytes = used,
            MemoryWorkingSetBytes = used,
            MemoryRssBytes = meminfo.GetValueOrDefault("AnonPages:") * 1024,
            MemoryCacheBytes = meminfo.GetValueOrDefault("Cached:") * 1024,
            MemoryMappedFileBytes = meminfo.GetValueOrDefault("Mapped:") * 1024,
            MemorySwapBytes = swapTotal > swapFree ? swapTotal - swapFree : 0,
            OomKills = vmstat.GetValueOrDefault("oom_kill"),
            PageFaults = vmstat.GetValueOrDefault("pgfault"),
            MajorPageFaults = vmstat.GetValueOrDefault("pgmajfault"),
            Pids = (ulong)Directory.EnumerateDirectories("/proc").Count(d => Path.GetFileName(d).All(char.IsAsciiDigit)),
            IoReadBytes = read,
            IoWriteBytes = written,
            Timestamp = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100,
        };
        return (stats, total);
    }

    /// <summary>Every network interface of the VM and its counters, from <c>/sys/class/net</c>.</summary>
    public static IEnumerable<Protocol.V1.InterfaceStats> Interfaces(string classNet = "/sys/class/net")
    {
        if (!Directory.Exists(classNet))
        {
            yield break;
        }

        foreach (var dir in Directory.EnumerateFileSystemEntries(classNet).Order(StringComparer.Ordinal))
        {
            var statistics = Path.Combine(dir, "statistics");
            if (!Directory.Exists(statistics))
            {
                continue;
            }

            ulong Counter(string name) => ReadNumber(Path.Combine(statistics, name));
            yield return new Protocol.V1.InterfaceStats
            {
                Name = Path.GetFileName(dir),
                RxBytes = Counter("rx_bytes"),
                RxPackets = Counter("rx_packets"),
                RxErrors = Counter("rx_errors"),
                RxDropped = Counter("rx_dropped"),
                TxBytes = Counter("tx_bytes"),
                TxPackets = Counter("tx_packets"),
                TxErrors = Counter("tx_errors"),
                TxDropped = Counter("tx_dropped"),
            };
        }
    }

    /// <summary>How many times the kernel's OOM killer killed a process of the cgroup.</summary>
    public static ulong OomKills(string cgroupPath) =>
        Field(Path.Combine(Root, cgroupPath.TrimStart('/'), "memory.events"), "oom_kill");

    private static ulong ReadNumber(string file)
    {
        try
        {
            return ulong.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>The number after <paramref name="key"/> in a "key value" file.</summary>
    private static ulong Field(string file, string key) => Fields(file).GetValueOrDefault(key);

    /// <summary>Every "key value" line of a file (memory.stat, cpu.stat, /proc/meminfo, /proc/vmstat); empty when it cannot be read.</summary>
    private static Dictionary<string, ulong> Fields(string file)
    {
        var fields = new Dictionary<string, ulong>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    fields.TryAdd(parts[0], value);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return fields;
    }

    private static (ulong Read, ulong Written) Io(string file)
    {
        ulong read = 0;
        ulong written = 0;
        try
        {
            foreach (var word in File.ReadAllText(file).Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries))
            {
                if (word.StartsWith("rbytes=", StringComparison.Ordinal))
                {
                    read += ulong.Parse(word[7..], CultureInfo.InvariantCulture);
                }
                else if (word.StartsWith("wbytes=", StringComparison.Ordinal))
                {
                    written += ulong.Parse(word[7..], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return (read, written);
    }
}
