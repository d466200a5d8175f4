using Spherelet.Crx.Guest;
using Spherelet.Crx.Native;
using Spherelet.Crx.Protocol;

namespace Spherelet.Crx.Containers;

/// <summary>Runs crun commands and turns their failures into errors that carry crun's own message.</summary>
internal sealed class Crun
{
    private readonly string _binary;
    private readonly string _logDirectory;

    public Crun(string binary, string stateDirectory)
    {
        _binary = binary;
        _logDirectory = Path.Combine(stateDirectory, "crun-logs");
        Directory.CreateDirectory(_logDirectory);
    }

    /// <summary>Runs <c>crun ARGS</c> with the given stdio; returns when crun exits.</summary>
    /// <exception cref="CrxRequestException">crun failed; the message is crun's.</exception>
    public async Task RunAsync(string containerId, IReadOnlyList<string> args, int stdin, int stdout, int stderr)
    {
        var log = Path.Combine(_logDirectory, containerId + ".log");
        File.Delete(log);
        var argv = new List<string> { "crun", "--log=file:" + log, "--log-format=text" };
        argv.AddRange(args);
        var pid = ProcessSpawner.Spawn(_binary, argv, Environment(), stdin, stdout, stderr, newSession: false);
        CrxLog.Verbose($"crun {args[0]} {containerId}: pid {pid}");
        int status;
        try
        {
            status = await Reaper.WaitAsync(pid).WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            CrxLog.Warn($"crun {args[0]} {containerId} (pid {pid}) did not finish within {Timeout.TotalSeconds:0} s: {Describe(pid)}");
            Sys.kill(pid, Sys.SIGKILL);
            status = await Reaper.WaitAsync(pid);
            Reaper.Forget(pid);
            throw new CrxRequestException(CrxProtocol.Codes.Unavailable, $"crun {args[0]} {containerId} did not finish within {Timeout.TotalSeconds:0} s");
        }

        CrxLog.Verbose($"crun {args[0]} {containerId}: pid {pid} ended with status {status}");
        Reaper.Forget(pid);
        var (code, _) = Reaper.Decode(status);
        if (code != 0)
        {
            var message = File.Exists(log) ? File.ReadAllText(log).Trim() : string.Empty;
            throw new CrxRequestException(
                CrxProtocol.Codes.Internal,
                $"crun {args[0]} {containerId} failed with exit code {code}" + (message.Length > 0 ? ": " + LastLines(message) : string.Empty));
        }
    }

    /// <summary>Runs crun with /dev/null as its stdio.</summary>
    public async Task RunQuietAsync(string containerId, params string[] args)
    {
        var devNull = Sys.open("/dev/null", Sys.O_RDWR | Sys.O_CLOEXEC, 0);
        try
        {
            await RunAsync(containerId, args, devNull, devNull, devNull);
        }
        finally
        {
            Sys.close(devNull);
        }
    }

    /// <summary>How long one crun command may take before it is killed.</summary>
    public static TimeSpan Timeout { get; } = TimeSpan.FromSeconds(20);

    /// <summary>What a stuck process and its children wait on, for the log.</summary>
    private static string Describe(int pid)
    {
        var parts = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc").Where(d => Path.GetFileName(d).All(char.IsAsciiDigit)))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var name = stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..stat.LastIndexOf(')')];
                var self = Path.GetFileName(dir);
                if (self == pid.ToString(System.Globalization.CultureInfo.InvariantCulture) || fields[1] == pid.ToString(System.Globalization.CultureInfo.InvariantCulture) || name.StartsWith("crun", StringComparison.Ordinal) || name.StartsWith("sh", StringComparison.Ordinal))
                {
                    parts.Add($"{self}({name}) state={fields[0]} ppid={fields[1]} wchan={File.ReadAllText(Path.Combine(dir, "wchan"))}");
                }
            }
            catch (IOException)
            {
            }
        }

        return string.Join("; ", parts);
    }

    private static string LastLines(string text)
    {
        var lines = text.Split('\n');
        return string.Join(" | ", lines.Skip(Math.Max(0, lines.Length - 3)));
    }

    private static List<string> Environment() =>
        ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"];
}
