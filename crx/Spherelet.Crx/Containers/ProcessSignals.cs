using System.Globalization;

namespace Spherelet.Crx.Containers;

/// <summary>A process's signal dispositions, from <c>/proc/PID/status</c> (SigCgt, SigIgn).</summary>
internal static class ProcessSignals
{
    public static SignalDisposition Disposition(int pid, int signal)
    {
        string status;
        try
        {
            status = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return SignalDisposition.Gone;
        }

        return Parse(status, signal);
    }

    /// <summary>The disposition of <paramref name="signal"/> (1 to 64) in the text of a status file.</summary>
    public static SignalDisposition Parse(string status, int signal)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (signal is < 1 or > 64)
        {
            return SignalDisposition.Default;
        }

        var bit = 1UL << (signal - 1);
        if ((Mask(status, "SigIgn:") & bit) != 0)
        {
            return SignalDisposition.Ignored;
        }

        return (Mask(status, "SigCgt:") & bit) != 0 ? SignalDisposition.Handled : SignalDisposition.Default;
    }

    private static ulong Mask(string status, string field)
    {
        foreach (var line in status.Split('\n'))
        {
            if (line.StartsWith(field, StringComparison.Ordinal)
                && ulong.TryParse(line.AsSpan(field.Length).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask))
            {
                return mask;
            }
        }

        return 0;
    }
}
