namespace Spherelet.Crx.Containers;

/// <summary>
/// An exec whose command cannot be run (missing, or not executable) is a process that ran and
/// failed, as a shell reports it: exit code 127 (not found) or 126 (not executable) with the
/// reason on stderr, not a failed request.
/// </summary>
internal static class ExecFailure
{
    public const int NotFound = 127;
    public const int NotExecutable = 126;

    /// <summary>The exit code and stderr line for crun's failure <paramref name="message"/>; null when crun failed for another reason.</summary>
    public static (int ExitCode, string Stderr)? FromCrun(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var notFound = message.IndexOf("executable file `", StringComparison.Ordinal);
        if (notFound >= 0)
        {
            return (NotFound, Reason(message, notFound));
        }

        var cannotOpen = message.IndexOf("open executable", StringComparison.Ordinal);
        if (cannotOpen >= 0)
        {
            var reason = Reason(message, cannotOpen);
            if (reason.Contains("Permission denied", StringComparison.Ordinal))
            {
                return (NotExecutable, reason);
            }

            if (reason.Contains("No such file or directory", StringComparison.Ordinal) || reason.Contains("Not a directory", StringComparison.Ordinal))
            {
                return (NotFound, reason);
            }
        }

        return null;
    }

    /// <summary>crun's line from <paramref name="start"/> to its end.</summary>
    private static string Reason(string message, int start)
    {
        var end = message.IndexOfAny(['\n', '|'], start);
        return (end < 0 ? message[start..] : message[start..end]).Trim() + "\n";
    }
}
