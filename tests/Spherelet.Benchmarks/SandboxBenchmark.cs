using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Grpc.Core;
using Runtime.V1;
using Spherelet.Cri;
using Spherelet.Crx.Protocol;
using Spherelet.Tests.Shared;

namespace Spherelet.Benchmarks;

/// <summary>
/// RunPodSandbox through CRI (the daemon as built, real libvirt VMs) next to a plain QEMU
/// boot of the same kernel and initramfs to CRX ready, runs interleaved; N pods started at
/// once versus one after another; and the host memory an idle pod costs (PSS of its QEMU
/// plus its share of the agent's).
/// </summary>
internal static class SandboxBenchmark
{
    public static async Task RunAsync(SandboxBenchOptions options, TextWriter output)
    {
        var dir = Directory.CreateTempSubdirectory("sph-bench-sbx-").FullName;
        var socket = Path.Combine(dir, "run", "s.sock");
        await File.WriteAllTextAsync(Path.Combine(dir, "spherelet.json"), "{}");
        using var daemon = StartDaemon(options, dir, socket);
        try
        {
            using var channel = CriChannel.ForUnixSocket(socket);
            var client = new RuntimeService.RuntimeServiceClient(channel);
            await WaitRecoveredAsync(client, daemon);

            var runpMs = new List<double>();
            var qemuMs = new List<double>();
            for (var run = 0; run < options.Runs; run++)
            {
                qemuMs.Add(await PlainQemuToReadyAsync(options));
                var watch = Stopwatch.StartNew();
                var id = await RunPodAsync(client, $"seq-{run}");
                runpMs.Add(watch.Elapsed.TotalMilliseconds);
                await RemovePodAsync(client, id);
            }

            var sequential = Stopwatch.StartNew();
            var sequentialIds = new List<string>();
            for (var i = 0; i < options.Parallel; i++)
            {
                sequentialIds.Add(await RunPodAsync(client, $"one-by-one-{i}"));
            }

            var sequentialMs = sequential.Elapsed.TotalMilliseconds;
            foreach (var id in sequentialIds)
            {
                await RemovePodAsync(client, id);
            }

            var parallel = Stopwatch.StartNew();
            var parallelIds = await Task.WhenAll(Enumerable.Range(0, options.Parallel).Select(i => RunPodAsync(client, $"at-once-{i}")));
            var parallelMs = parallel.Elapsed.TotalMilliseconds;

            // Idle pods: let the guests settle, then read PSS of each pod's QEMU and of the agent.
            await Task.Delay(TimeSpan.FromSeconds(3));
            var qemuPss = new List<double>();
            foreach (var id in parallelIds)
            {
                var vm = "sph-" + id[..12];
                var pid = int.Parse((await File.ReadAllTextAsync($"/run/libvirt/qemu/{vm}.pid")).Trim(), CultureInfo.InvariantCulture);
                qemuPss.Add(PssMib(pid));
            }

            var agentPss = PssMib(daemon.Id);
            var perPod = qemuPss.Average() + (agentPss / parallelIds.Length);
            foreach (var id in parallelIds)
            {
                await RemovePodAsync(client, id);
            }

            var runp = Stats.Median(runpMs);
            var qemu = Stats.Median(qemuMs);
            var ratio = runp / qemu;
            output.WriteLine($"sandbox: {options.Runs} pods one at a time, interleaved with plain QEMU boots; {options.Parallel} pods at once; {(File.Exists("/dev/kvm") ? "KVM" : "TCG")}");
            output.WriteLine();
            output.WriteLine("| measure                                        | median     | p90        | min        |");
            output.WriteLine("|------------------------------------------------|------------|------------|------------|");
            Row(output, "RunPodSandbox through CRI, to READY (ms)", runpMs);
            Row(output, "plain QEMU start -> CRX answers Hello (ms)", qemuMs);
            output.WriteLine($"| {"ratio RunPodSandbox / plain QEMU",-46} | {Stats.F(ratio, "0.00"),10} |            |            |");
            output.WriteLine($"| {$"{options.Parallel} pods one after another, wall (ms)",-46} | {Stats.F(sequentialMs),10} |            |            |");
            output.WriteLine($"| {$"{options.Parallel} pods at once, wall (ms)",-46} | {Stats.F(parallelMs),10} |            |            |");
            output.WriteLine($"| {"QEMU PSS per idle pod (MiB)",-46} | {Stats.F(Stats.Median(qemuPss)),10} |            | {Stats.F(qemuPss.Min()),10} |");
            output.WriteLine($"| {"agent PSS (MiB), shared by the pods",-46} | {Stats.F(agentPss),10} |            |            |");
            output.WriteLine($"| {"host memory per idle pod (MiB)",-46} | {Stats.F(perPod),10} |            |            |");
            output.WriteLine();
            output.WriteLine(
                $"result: runp_ratio={Stats.F(ratio, "0.00")} runp_ms={Stats.F(runp)} plain_qemu_ms={Stats.F(qemu)} " +
                $"parallel_ms={Stats.F(parallelMs)} sequential_ms={Stats.F(sequentialMs)} pss_mib_per_pod={Stats.F(perPod)}");
        }
        finally
        {
            if (!daemon.HasExited)
            {
                _ = Tmds.Linux.LibC.kill(daemon.Id, Tmds.Linux.LibC.SIGTERM);
                await daemon.WaitForExitAsync();
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Row(TextWriter output, string name, List<double> values) =>
        output.WriteLine($"| {name,-46} | {Stats.F(Stats.Median(values)),10} | {Stats.F(Stats.Percentile(values, 90)),10} | {Stats.F(values.Min()),10} |");

    private static Process StartDaemon(SandboxBenchOptions options, string dir, string socket)
    {
        var start = new ProcessStartInfo(options.Daemon) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--config", Path.Combine(dir, "spherelet.json"), "--socket", socket, "--root", Path.Combine(dir, "lib"), "--state", Path.Combine(dir, "run"), "--log-level", "Warning" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["SPHERELET__GUEST__KERNELPATH"] = options.Kernel;
        start.Environment["SPHERELET__GUEST__INITRAMFSPATH"] = options.Initramfs;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitRecoveredAsync(RuntimeService.RuntimeServiceClient client, Process daemon)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (daemon.HasExited)
            {
                throw new InvalidOperationException($"spherelet exited with {daemon.ExitCode}");
            }

            try
            {
                await client.ListPodSandboxAsync(new ListPodSandboxRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task<string> RunPodAsync(RuntimeService.RuntimeServiceClient client, string name)
    {
        var response = await client.RunPodSandboxAsync(new RunPodSandboxRequest
        {
            Config = new PodSandboxConfig
            {
                Metadata = new PodSandboxMetadata { Name = name, Namespace = "bench", Uid = Guid.NewGuid().ToString(), Attempt = 0 },
                Hostname = name,
            },
        });
        return response.PodSandboxId;
    }

    private static async Task RemovePodAsync(RuntimeService.RuntimeServiceClient client, string id)
    {
        await client.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = id });
        await client.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id });
    }

    /// <summary>QEMU with the pod VM's command line, from exec until CRX answers Hello on the channel.</summary>
    private static async Task<double> PlainQemuToReadyAsync(SandboxBenchOptions options)
    {
        var directory = Directory.CreateTempSubdirectory("sph-bench-vm-").FullName;
        var start = new ProcessStartInfo("qemu-system-x86_64") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in GuestQemuCommand.Arguments(options.Kernel, options.Initramfs, directory, "null", string.Empty))
        {
            start.ArgumentList.Add(arg);
        }

        var watch = Stopwatch.StartNew();
        using var qemu = Process.Start(start)!;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var path = Path.Combine(directory, "crx.sock");
            while (!File.Exists(path))
            {
                await Task.Delay(5, timeout.Token);
            }

            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token);
            await using var client = await CrxClient.ConnectAsync(new NetworkStream(socket, ownsSocket: true), "bench", timeout.Token);
            return watch.Elapsed.TotalMilliseconds;
        }
        finally
        {
            if (!qemu.HasExited)
            {
                qemu.Kill();
                await qemu.WaitForExitAsync();
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    private static double PssMib(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            if (line.StartsWith("Pss:", StringComparison.Ordinal))
            {
                var kib = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                return kib / 1024.0;
            }
        }

        throw new InvalidDataException($"no Pss in /proc/{pid}/smaps_rollup");
    }
}
