using System.Globalization;
using System.Text.RegularExpressions;

namespace Spherelet.IntegrationTests.Containers;

/// <summary>
/// One record of a container log in the kubelet's CRI format:
/// <c>RFC3339Nano-timestamp stream tag message</c>, the stream stdout or stderr, the tag F
/// (a full line) or P (part of a longer line).
/// </summary>
public sealed partial record CriLogLine(DateTimeOffset Time, string Stream, char Tag, string Message)
{
    /// <exception cref="FormatException">The line is not a CRI log record.</exception>
    public static CriLogLine Parse(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        var match = Record().Match(line);
        if (!match.Success)
        {
            throw new FormatException("not a CRI log record: " + line);
        }

        // .NET parses at most 7 fraction digits; RFC3339Nano has up to 9.
        var fraction = match.Groups["fraction"].Value;
        var time = match.Groups["seconds"].Value + (fraction.Length > 0 ? "." + fraction[..Math.Min(7, fraction.Length)] : string.Empty) + match.Groups["zone"].Value;
        return new CriLogLine(
            DateTimeOffset.Parse(time, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
            match.Groups["stream"].Value,
            match.Groups["tag"].Value[0],
            match.Groups["message"].Value);
    }

    [GeneratedRegex(@"^(?<seconds>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.(?<fraction>\d{1,9}))?(?<zone>Z|[+-]\d{2}:\d{2}) (?<stream>stdout|stderr) (?<tag>[PF]) (?<message>.*)$", RegexOptions.Singleline)]
    private static partial Regex Record();
}
