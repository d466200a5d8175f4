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
        var inactiveFile = Field(Path.Combine(dir, "memory.stat"), "inactive_file");
        var (read, written) = Io(Path.Combine(dir, "io.stat"));
        return new Protocol.V1.CgroupStats
        {
            CpuUsageNs = Field(Path.Combine(dir, "cpu.stat"), "usage_usec") * 1000,
            MemoryUsageBytes = memory,
            MemoryWorkingSetBytes = memory > inactiveFile ? memory - inactiveFile : 0,
            Pids = ReadNumber(Path.Combine(dir, "pids.current")),
            IoReadBytes = read,
            IoWriteBytes = written,
            Timestamp = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100,
        };
    }

    /// <summary>The whole VM: CPU from the root cgroup, memory from /proc/meminfo, every process.</summary>
    public static (Protocol.V1.CgroupStats Stats, ulong MemoryTotal) Vm()
    {
        var total = Field("/proc/meminfo", "MemTotal:") * 1024;
        var available = Field("/proc/meminfo", "MemAvailable:") * 1024;
        var used = total > available ? total - available : 0;
        var (read, written) = Io(Path.Combine(Root, "io.stat"));
        var stats = new Protocol.V1.CgroupStats
        {
            CpuUsageNs = Field(Path.Combine(Root, "cpu.stat"), "usage_usec") * 1000,
            MemoryUsageBytes = used,
            MemoryWorkingSetBytes = used,
            Pids = (ulong)Directory.EnumerateDirectories("/proc").Count(d => Path.GetFileName(d).All(char.IsAsciiDigit)),
            IoReadBytes = read,
            IoWriteBytes = written,
            Timestamp = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100,
        };
        return (stats, total);
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
    private static ulong Field(string file, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(file))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && parts[0] == key)
                {
                    return ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : 0;
                }
            }
        }
        catch (IOException)
        {
        }

        return 0;
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
