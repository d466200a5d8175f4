using System.Diagnostics;
using Grpc.Core;
using Runtime.V1;
using Spherelet.Cri;

namespace Spherelet.Benchmarks;

/// <summary>
/// The daemon's time from exec to a socket that answers Version, next to the time of
/// dotnet starting and ending an empty console program, runs interleaved so both see the
/// same machine; and the daemon's resident memory once idle.
/// </summary>
internal static class StartupBenchmark
{
    public static async Task RunAsync(BenchOptions options, TextWriter output)
    {
        var daemonMs = new List<double>();
        var emptyMs = new List<double>();
        var rssMib = new List<double>();
        for (var run = 0; run < options.Runs; run++)
        {
            emptyMs.Add(await TimeEmptyAsync(options.Empty));
            var (ms, idleRss) = await TimeDaemonAsync(options.Daemon, measureRss: run < 3);
            daemonMs.Add(ms);
            if (idleRss > 0)
            {
                rssMib.Add(idleRss);
            }
        }

        var daemonMedian = Stats.Median(daemonMs);
        var emptyMedian = Stats.Median(emptyMs);
        var ratio = daemonMedian / emptyMedian;
        var rss = Stats.Median(rssMib);
        output.WriteLine($"startup: {options.Runs} runs each, interleaved");
        output.WriteLine();
        output.WriteLine("| measure                                    | median     | p90        | min        |");
        output.WriteLine("|--------------------------------------------|------------|------------|------------|");
        Row(output, "spherelet exec -> Version answered (ms)", daemonMs);
        Row(output, "empty .NET console exec -> exit (ms)", emptyMs);
        output.WriteLine($"| {"ratio daemon / empty console",-42} | {Stats.F(ratio, "0.00"),10} |            |            |");
        output.WriteLine($"| {"spherelet RSS when idle (MiB)",-42} | {Stats.F(rss),10} |            |            |");
        output.WriteLine();
        output.WriteLine(
            $"result: startup_ms={Stats.F(daemonMedian)} empty_console_ms={Stats.F(emptyMedian)} startup_ratio={Stats.F(ratio, "0.00")} idle_rss_mib={Stats.F(rss)}");
    }

    private static void Row(TextWriter output, string name, List<double> values) =>
        output.WriteLine($"| {name,-42} | {Stats.F(Stats.Median(values)),10} | {Stats.F(Stats.Percentile(values, 90)),10} | {Stats.F(values.Min()),10} |");

    private static async Task<double> TimeEmptyAsync(string path)
    {
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(new ProcessStartInfo(path) { UseShellExecute = false })!;
        await process.WaitForExitAsync();
        return watch.Elapsed.TotalMilliseconds;
    }

    private static async Task<(double Ms, double RssMib)> TimeDaemonAsync(string path, bool measureRss)
    {
        var dir = Directory.CreateTempSubdirectory("sph-bench-").FullName;
        var socket = Path.Combine(dir, "s.sock");
        var config = Path.Combine(dir, "spherelet.json");
        await File.WriteAllTextAsync(config, "{}");
        var start = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in new[] { "--config", config, "--socket", socket, "--root", Path.Combine(dir, "lib"), "--state", Path.Combine(dir, "run"), "--log-level", "Warning" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["SPHERELET__METRICS__PORT"] = "0";

        try
        {
            var watch = Stopwatch.StartNew();
            using var process = Process.Start(start)!;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            await WaitForVersionAsync(socket, process);
            var elapsed = watch.Elapsed.TotalMilliseconds;

            var rss = 0.0;
            if (measureRss)
            {
                await Task.Delay(TimeSpan.FromSeconds(3));
                rss = ReadRssMib(process.Id);
            }

            _ = Tmds.Linux.LibC.kill(process.Id, Tmds.Linux.LibC.SIGTERM);
            await process.WaitForExitAsync();
            return (elapsed, rss);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task WaitForVersionAsync(string socket, Process process)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"spherelet exited with {process.ExitCode}");
            }

            if (File.Exists(socket))
            {
                try
                {
                    using var channel = CriChannel.ForUnixSocket(socket);
                    await new RuntimeService.RuntimeServiceClient(channel).VersionAsync(new VersionRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                    return;
                }
                catch (RpcException)
                {
                }
            }

            await Task.Delay(2);
        }

        throw new TimeoutException("spherelet did not answer Version within 60 s");
    }

    private static double ReadRssMib(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kib = double.Parse(line["VmRSS:".Length..].Replace("kB", string.Empty, StringComparison.Ordinal).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                return kib / 1024;
            }
        }

        return 0;
    }
}
