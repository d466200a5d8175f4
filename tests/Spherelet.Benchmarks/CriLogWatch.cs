using System.Diagnostics;
using System.Text;

namespace Spherelet.Benchmarks;

/// <summary>Watches a container's CRI log file (<c>TIMESTAMP STREAM TAG CONTENT</c> lines) from the host.</summary>
internal static class CriLogWatch
{
    /// <summary>
    /// Polls <paramref name="path"/> (it may not exist yet) until a full line
    /// <c>TIMESTAMP STREAM F CONTENT</c> with <paramref name="stream"/> and <paramref name="content"/>
    /// is in it; returns <paramref name="watch"/>'s elapsed ms at that moment.
    /// </summary>
    /// <exception cref="TimeoutException">The line is not there within <paramref name="timeout"/> of the watch's start; names what the file holds.</exception>
    public static async Task<double> FirstLineAsync(string path, string stream, string content, Stopwatch watch, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var text = string.Empty;
        while (true)
        {
            text = Read(path) ?? text;
            if (text.Split('\n').SkipLast(1).Any(line => Matches(line, stream, content)))
            {
                return watch.Elapsed.TotalMilliseconds;
            }

            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException(
                    $"no line '{stream} F {content}' in {path} after {timeout.TotalSeconds:0} s; " +
                    (File.Exists(path) ? $"it holds: '{text}'" : "the file does not exist"));
            }

            await Task.Delay(5, cancellationToken);
        }
    }

    private static bool Matches(string line, string stream, string content)
    {
        var fields = line.Split(' ', 4);
        return fields.Length == 4 && fields[1] == stream && fields[2] == "F" && fields[3] == content;
    }

    private static string? Read(string path)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(file, Encoding.UTF8);
            return reader.ReadToEnd();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }
}
