using System.Globalization;

namespace Spherelet.Domain.Node;

/// <summary>The host TSC's frequency, which a TCG guest's TSC runs at (a microvm guest has no timer to measure it by).</summary>
public static class HostTsc
{
    /// <summary>kHz: the kernel's own figure where it exports one, else the first CPU's "cpu MHz"; 0 when neither is there.</summary>
    public static long Khz(string sys = "/sys/devices/system/cpu/cpu0/tsc_freq_khz", string cpuinfo = "/proc/cpuinfo")
    {
        try
        {
            if (File.Exists(sys) && long.TryParse(File.ReadAllText(sys).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var khz) && khz > 0)
            {
                return khz;
            }

            foreach (var line in File.ReadLines(cpuinfo))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim() == "cpu MHz"
                    && decimal.TryParse(line[(colon + 1)..].Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var mhz))
                {
                    return (long)(mhz * 1000);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return 0;
    }
}
