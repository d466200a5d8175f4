using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Spherelet.Microvm;

/// <summary>
/// Reads what a QEMU writes on its standard output and error, line by line, so it never blocks on a
/// full pipe: each line is logged, and the last few are kept for the error of a failed start.
/// Bounded: QEMU is not trusted to be brief.
/// </summary>
internal sealed partial class QemuOutput
{
    private const int KeptLines = 8;
    private const int MaxLineChars = 512;

    private readonly string _vmName;
    private readonly ILogger _logger;
    private readonly Queue<string> _last = new();
    private readonly Task _drained;

    public QemuOutput(string vmName, Process process, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(process);
        _vmName = vmName;
        _logger = logger;
        process.StandardInput.Close();
        _drained = Task.WhenAll(
            Task.Run(() => PumpAsync(process.StandardError)),
            Task.Run(() => PumpAsync(process.StandardOutput)));
    }

    /// <summary>The last lines QEMU wrote, joined; "no output" when it wrote none.</summary>
    public string Errors
    {
        get
        {
            lock (_last)
            {
                return _last.Count == 0 ? "no output" : string.Join(" | ", _last);
            }
        }
    }

    /// <summary>Completes once both pipes are at their end (QEMU exited), or after a second.</summary>
    public Task DrainedAsync() => Task.WhenAny(_drained, Task.Delay(TimeSpan.FromSeconds(1)));

    /// <summary>Reads in bounded blocks: a line longer than <see cref="MaxLineChars"/> is cut into pieces, never held whole.</summary>
    private async Task PumpAsync(StreamReader reader)
    {
        var block = new char[MaxLineChars];
        var line = new System.Text.StringBuilder(MaxLineChars);
        try
        {
            int read;
            while ((read = await reader.ReadAsync(block)) > 0)
            {
                foreach (var c in block.AsSpan(0, read))
                {
                    if (c == '\n' || line.Length == MaxLineChars)
                    {
                        Keep(line.ToString());
                        line.Clear();
                    }

                    if (c != '\n')
                    {
                        line.Append(c);
                    }
                }
            }

            if (line.Length > 0)
            {
                Keep(line.ToString());
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // QEMU exited, or its process was let go of.
        }
    }

    private void Keep(string line)
    {
        lock (_last)
        {
            _last.Enqueue(line);
            while (_last.Count > KeptLines)
            {
                _last.Dequeue();
            }
        }

        LogQemuSaid(_vmName, line);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "qemu said vm={VmName} line={Line}")]
    private partial void LogQemuSaid(string vmName, string line);
}
