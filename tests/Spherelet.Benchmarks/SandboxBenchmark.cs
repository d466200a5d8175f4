using System.Diagnostics;
using Runtime.V1;
using Spherelet.Cri;

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
        using var daemon = PodVmDaemon.Start(options.Daemon, options.Kernel, options.Initramfs, dir);
        using var channel = CriChannel.ForUnixSocket(PodVmDaemon.Socket(dir));
        var client = new RuntimeService.RuntimeServiceClient(channel);
        var completed = false;
        try
        {
            await PodVmDaemon.WaitRecoveredAsync(client, daemon);

            var runpMs = new List<double>();
            var qemuMs = new List<double>();
            for (var run = 0; run < options.Runs; run++)
            {
                qemuMs.Add(await PlainQemu.ToReadyAsync(options.Kernel, options.Initramfs));
                var watch = Stopwatch.StartNew();
                var id = await PodCalls.RunAsync(client, PodCalls.Config($"seq-{run}"));
                runpMs.Add(watch.Elapsed.TotalMilliseconds);
                await PodCalls.RemoveAsync(client, id);
            }

            var sequential = Stopwatch.StartNew();
            var sequentialIds = new List<string>();
            for (var i = 0; i < options.Parallel; i++)
            {
                sequentialIds.Add(await PodCalls.RunAsync(client, PodCalls.Config($"one-by-one-{i}")));
            }

            var sequentialMs = sequential.Elapsed.TotalMilliseconds;
            foreach (var id in sequentialIds)
            {
                await PodCalls.RemoveAsync(client, id);
            }

            var parallel = Stopwatch.StartNew();
            var parallelIds = await Task.WhenAll(Enumerable.Range(0, options.Parallel).Select(i => PodCalls.RunAsync(client, PodCalls.Config($"at-once-{i}"))));
            var parallelMs = parallel.Elapsed.TotalMilliseconds;

            // Idle pods: let the guests settle, then read PSS of each pod's QEMU and of the agent.
            await Task.Delay(TimeSpan.FromSeconds(3));
            var qemuPss = new List<double>();
            foreach (var id in parallelIds)
            {
                qemuPss.Add(PodMemory.QemuPssMib(id));
            }

            var agentPss = PodMemory.PssMib(daemon.Id);
            var perPod = qemuPss.Average() + (agentPss / parallelIds.Length);
            foreach (var id in parallelIds)
            {
                await PodCalls.RemoveAsync(client, id);
            }

            var runp = Stats.Median(runpMs);
            var qemu = Stats.Median(qemuMs);
            var ratio = runp / qemu;
            output.WriteLine($"sandbox: {options.Runs} pods one at a time, interleaved with plain QEMU boots; {options.Parallel} pods at once; {(Spherelet.Domain.Node.HostVirtualization.KvmUsable ? "KVM" : "TCG")}");
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
            completed = true;
        }
        finally
        {
            if (!completed && !daemon.HasExited)
            {
                await PodCalls.RemoveLeftoversAsync(client);
            }

            await PodVmDaemon.StopAsync(daemon);
            Spherelet.Tests.Shared.MountCleanup.UnmountAllUnder(dir);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Row(TextWriter output, string name, List<double> values) =>
        output.WriteLine($"| {name,-46} | {Stats.F(Stats.Median(values)),10} | {Stats.F(Stats.Percentile(values, 90)),10} | {Stats.F(values.Min()),10} |");
}
