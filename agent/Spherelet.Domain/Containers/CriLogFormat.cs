using System.Globalization;
using System.Text;

namespace Spherelet.Domain.Containers;

/// <summary>
/// The kubelet's CRI log format: <c>2026-11-24T05:00:00.123456789Z stdout F message</c>, one line
/// per entry, the tag P for a part of a longer line and F for the end of one.
/// </summary>
public static class CriLogFormat
{
    private const string SecondsFormat = "yyyy-MM-dd'T'HH:mm:ss";

    /// <summary>The line of <paramref name="entry"/>, newline included.</summary>
    public static byte[] Line(GuestLogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var prefix = Encoding.ASCII.GetBytes($"{Timestamp(entry.TimeUnixNanos)} {(entry.Stderr ? "stderr" : "stdout")} {(entry.Partial ? 'P' : 'F')} ");
        var line = new byte[prefix.Length + entry.Content.Length + 1];
        prefix.CopyTo(line, 0);
        entry.Content.Span.CopyTo(line.AsSpan(prefix.Length));
        line[^1] = (byte)'\n';
        return line;
    }

    /// <summary>RFC 3339 with nine digits of fraction, UTC.</summary>
    public static string Timestamp(long unixNanos)
    {
        var seconds = Math.DivRem(unixNanos, 1_000_000_000L, out var nanos);
        if (nanos < 0)
        {
            seconds--;
            nanos += 1_000_000_000L;
        }

        return DateTime.UnixEpoch.AddSeconds(seconds).ToString(SecondsFormat, CultureInfo.InvariantCulture) + "." + nanos.ToString("D9", CultureInfo.InvariantCulture) + "Z";
    }

    /// <summary>The time of the last complete line in <paramref name="tail"/> (the end of a log file), or null when there is none.</summary>
    public static long? LastTime(ReadOnlySpan<byte> tail)
    {
        if (tail.IsEmpty || tail[^1] != (byte)'\n')
        {
            // A line cut short (the host crashed while writing it) is not a line.
            var cut = tail.LastIndexOf((byte)'\n');
            tail = cut < 0 ? [] : tail[..(cut + 1)];
        }

        if (tail.Length < 2)
        {
            return null;
        }

        var body = tail[..^1];
        var start = body.LastIndexOf((byte)'\n') + 1;
        var line = body[start..];
        var space = line.IndexOf((byte)' ');
        return space < 0 ? null : ParseTimestamp(Encoding.ASCII.GetString(line[..space]));
    }

    /// <summary>The nanoseconds since the Unix epoch of a timestamp written by <see cref="Timestamp"/>; null when it is not one.</summary>
    public static long? ParseTimestamp(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0 || !text.EndsWith('Z') || text.Length - dot - 2 != 9
            || !DateTime.TryParseExact(text[..dot], SecondsFormat, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var seconds)
            || !long.TryParse(text.AsSpan(dot + 1, 9), NumberStyles.None, CultureInfo.InvariantCulture, out var nanos))
        {
            return null;
        }

        return ((seconds - DateTime.UnixEpoch).Ticks / TimeSpan.TicksPerSecond * 1_000_000_000L) + nanos;
    }
}
