using System.Diagnostics;
using System.Net.Sockets;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;
using Spherelet.Tests.Shared;

namespace Spherelet.Benchmarks;

/// <summary>
/// Boot to CRX ready of a pod VM next to the same kernel with a trivial init (runs
/// interleaved), the initramfs size, and the round-trip time of calls over the channel.
/// </summary>
internal static class GuestBenchmark
{
    public static async Task RunAsync(GuestBenchOptions options, TextWriter output)
    {
        var crxMs = new List<double>();
        var trivialMs = new List<double>();
        for (var run = 0; run < options.Runs; run++)
        {
            trivialMs.Add(await BootToMarkerAsync(options, options.TrivialInitramfs, "TRIVIAL-READY", keepRunning: false));
            crxMs.Add(await BootToMarkerAsync(options, options.Initramfs, "CRX-READY", keepRunning: false));
        }

        var rtt = await PingsAsync(options, 1000);
        var crx = Stats.Median(crxMs);
        var trivial = Stats.Median(trivialMs);
        var ratio = crx / trivial;
        var size = new FileInfo(options.Initramfs).Length / 1024.0;
        output.WriteLine($"guest: {options.Runs} boots each, interleaved; {(Spherelet.Domain.Node.HostVirtualization.KvmUsable ? "KVM" : "TCG")}; q35, 1 vCPU, 512 MiB");
        output.WriteLine();
        output.WriteLine("| measure                                      | median     | p90/p99    | min        |");
        output.WriteLine("|----------------------------------------------|------------|------------|------------|");
        output.WriteLine($"| {"QEMU start -> CRX ready (ms)",-44} | {Stats.F(crx),10} | {Stats.F(Stats.Percentile(crxMs, 90)),10} | {Stats.F(crxMs.Min()),10} |");
        output.WriteLine($"| {"QEMU start -> trivial init up (ms)",-44} | {Stats.F(trivial),10} | {Stats.F(Stats.Percentile(trivialMs, 90)),10} | {Stats.F(trivialMs.Min()),10} |");
        output.WriteLine($"| {"ratio CRX / trivial init",-44} | {Stats.F(ratio, "0.00"),10} |            |            |");
        output.WriteLine($"| {"initramfs size (KiB)",-44} | {Stats.F(size, "0"),10} |            |            |");
        output.WriteLine($"| {"ping round trip over virtio-serial (ms)",-44} | {Stats.F(Stats.Median(rtt), "0.000"),10} | {Stats.F(Stats.Percentile(rtt, 99), "0.000"),10} | {Stats.F(rtt.Min(), "0.000"),10} |");
        output.WriteLine();
        output.WriteLine(
            $"result: boot_ratio={Stats.F(ratio, "0.00")} crx_ready_ms={Stats.F(crx)} trivial_ready_ms={Stats.F(trivial)} initramfs_kib={Stats.F(size, "0")} " +
            $"rtt_median_ms={Stats.F(Stats.Median(rtt), "0.000")} rtt_p99_ms={Stats.F(Stats.Percentile(rtt, 99), "0.000")}");
    }

    private static Process StartQemu(GuestBenchOptions options, string initramfs, string directory)
    {
        var start = new ProcessStartInfo("qemu-system-x86_64")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in GuestQemuCommand.Arguments(options.Kernel, initramfs, directory, "stdio", string.Empty))
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    private static async Task<double> BootToMarkerAsync(GuestBenchOptions options, string initramfs, string marker, bool keepRunning)
    {
        var directory = Directory.CreateTempSubdirectory("sph-bench-vm-").FullName;
        try
        {
            var watch = Stopwatch.StartNew();
            using var qemu = StartQemu(options, initramfs, directory);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            while (await qemu.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (line.Contains(marker, StringComparison.Ordinal))
                {
                    var elapsed = watch.Elapsed.TotalMilliseconds;
                    if (!keepRunning && !qemu.HasExited)
                    {
                        qemu.Kill();
                    }

                    await qemu.WaitForExitAsync(timeout.Token);
                    return elapsed;
                }
            }

            throw new InvalidOperationException($"QEMU ended without printing {marker}: {await qemu.StandardError.ReadToEndAsync(timeout.Token)}");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task<List<double>> PingsAsync(GuestBenchOptions options, int count)
    {
        var directory = Directory.CreateTempSubdirectory("sph-bench-vm-").FullName;
        using var qemu = StartQemu(options, options.Initramfs, directory);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var path = Path.Combine(directory, "crx.sock");
            while (!File.Exists(path))
            {
                await Task.Delay(20, timeout.Token);
            }

            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token);
            await using var client = await CrxClient.ConnectAsync(new NetworkStream(socket, ownsSocket: true), "bench", timeout.Token);
            for (var i = 0; i < 50; i++)
            {
                await client.PingAsync(timeout.Token);
            }

            var samples = new List<double>(count);
            for (var i = 0; i < count; i++)
            {
                samples.Add((await client.PingAsync(timeout.Token)).TotalMilliseconds);
            }

            await client.CallAsync(new Request { Shutdown = new Shutdown() }, timeout.Token);
            await qemu.WaitForExitAsync(timeout.Token);
            return samples;
        }
        finally
        {
            if (!qemu.HasExited)
            {
                qemu.Kill();
            }

            Directory.Delete(directory, recursive: true);
        }
    }
}
