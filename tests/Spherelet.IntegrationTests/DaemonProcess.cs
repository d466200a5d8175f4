using System.Diagnostics;
using System.Text;
using Grpc.Core;
using Runtime.V1;

namespace Spherelet.IntegrationTests;

/// <summary>
/// The real spherelet daemon, run as its own process on a temporary socket, root and
/// state directory. Needs what the daemon's checks probe to be running for Ready
/// conditions (libvirtd, OVS; scripts/test starts them) but nothing to answer Version.
/// </summary>
public sealed class DaemonProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private DaemonProcess(Process process, string socket)
    {
        _process = process;
        Socket = socket;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Socket { get; }

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static string BinaryPath { get; } = FindBinary();

    public static DaemonProcess Start(TestDirectory dir, IDictionary<string, string>? environment = null, params string[] extraArgs)
    {
        ArgumentNullException.ThrowIfNull(dir);
        var variables = new Dictionary<string, string> { ["SPHERELET__CONFIG"] = dir.ConfigFile };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            variables[key] = value;
        }

        string[] args = ["--socket", dir.Socket, "--root", dir.Root, "--state", dir.State, .. extraArgs];
        return new DaemonProcess(StartRaw(variables, args), dir.Socket);
    }

    /// <summary>Runs the binary to its end (for options that make it fail at start).</summary>
    public static async Task<(int ExitCode, string Output)> RunToExitAsync(IDictionary<string, string>? environment, params string[] args)
    {
        using var daemon = new DaemonProcess(StartRaw(environment, args), string.Empty);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await daemon._process.WaitForExitAsync(timeout.Token);
        return (daemon._process.ExitCode, daemon.Output);
    }

    /// <summary>Waits until the socket answers Version.</summary>
    public async Task<CriClient> ConnectAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"spherelet exited with {_process.ExitCode}:\n{Output}");
            }

            if (File.Exists(Socket))
            {
                var client = new CriClient(Socket);
                try
                {
                    await client.Runtime.VersionAsync(new VersionRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                    return client;
                }
                catch (RpcException) when (DateTime.UtcNow < deadline)
                {
                    client.Dispose();
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"spherelet did not answer on {Socket}:\n{Output}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Kills the daemon with SIGKILL (a crash: no cleanup of any kind) and waits for it to be gone.</summary>
    public void Kill()
    {
        _ = Tmds.Linux.LibC.kill(_process.Id, Tmds.Linux.LibC.SIGKILL);
        _process.WaitForExit(10_000);
    }

    /// <summary>Sends SIGTERM and waits for the exit code.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            _ = Tmds.Linux.LibC.kill(_process.Id, Tmds.Linux.LibC.SIGTERM);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }

    private static Process StartRaw(IDictionary<string, string>? environment, string[] args)
    {
        var start = new ProcessStartInfo(BinaryPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // Test daemons run side by side: none listens for metrics unless its test gives it a port.
        start.Environment["SPHERELET__METRICS__PORT"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return Process.Start(start)!;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    /// <summary>The daemon built next to these tests (same configuration), or SPHERELET_BINARY.</summary>
    private static string FindBinary()
    {
        if (Environment.GetEnvironmentVariable("SPHERELET_BINARY") is { Length: > 0 } configured)
        {
            return configured;
        }

        var testBin = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = testBin.Parent!.Name;
        var root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Spherelet.sln")))
        {
            root = root.Parent;
        }

        if (root is null)
        {
            throw new InvalidOperationException("cannot find Spherelet.sln above " + AppContext.BaseDirectory);
        }

        return Path.Combine(root.FullName, "agent", "Spherelet.Agent", "bin", configuration, "net10.0", "spherelet");
    }
}
