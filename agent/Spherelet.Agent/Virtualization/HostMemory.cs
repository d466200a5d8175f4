using System.Globalization;

namespace Spherelet.Agent.Virtualization;

/// <summary>The host's physical memory (MemTotal in /proc/meminfo).</summary>
public static class HostMemory
{
    /// <summary>MemTotal in MiB; 0 when it cannot be read.</summary>
    public static int TotalMiB()
    {
        try
        {
            return Parse(File.ReadAllText("/proc/meminfo"));
        }
        catch (IOException)
        {
            return 0;
        }
    }

    /// <summary>MemTotal in MiB from the text of /proc/meminfo; 0 when it has none.</summary>
    public static int Parse(string meminfo)
    {
        ArgumentNullException.ThrowIfNull(meminfo);
        foreach (var line in meminfo.Split('\n'))
        {
            if (line.StartsWith("MemTotal:", StringComparison.Ordinal)
                && long.TryParse(line["MemTotal:".Length..].Replace("kB", string.Empty, StringComparison.Ordinal).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var kib))
            {
                return (int)Math.Min(int.MaxValue, kib / 1024);
            }
        }

        return 0;
    }
}
