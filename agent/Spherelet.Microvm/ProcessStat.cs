using System.Globalization;

namespace Spherelet.Microvm;

/// <summary>What <c>/proc/PID/stat</c> says of a process: whether it lives, when it started, its CPU time.</summary>
internal sealed record ProcessStat(char State, ulong StartTicks, ulong CpuTicks)
{
    /// <summary>Clock ticks per second (USER_HZ): 100 on every Linux architecture Spherelet runs on.</summary>
    public const int TicksPerSecond = 100;

    /// <summary>The process's stat, or null when there is none (or it cannot be read).</summary>
    public static ProcessStat? Read(int pid, string proc = "/proc")
    {
        if (pid <= 0)
        {
            return null;
        }

        try
        {
            return Parse(File.ReadAllText(Path.Combine(proc, pid.ToString(CultureInfo.InvariantCulture), "stat")));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Parses a stat line; the command name (in parentheses) may hold anything, so fields are counted after its last ')'.</summary>
    public static ProcessStat? Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var end = line.LastIndexOf(')');
        if (end < 0)
        {
            return null;
        }

        var fields = line[(end + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // fields[0] is field 3 (state); utime 14, stime 15, starttime 22.
        if (fields.Length < 20 || fields[0].Length != 1
            || !ulong.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var user)
            || !ulong.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var system)
            || !ulong.TryParse(fields[19], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
        {
            return null;
        }

        return new ProcessStat(fields[0][0], start, user + system);
    }

    /// <summary>Alive: neither a zombie nor dead.</summary>
    public bool Alive => State is not ('Z' or 'X' or 'x');
}
