using System.Diagnostics;
using System.Text.Json.Nodes;
using Grpc.Core;
using Runtime.V1;
using Spherelet.Cri;
using Spherelet.IntegrationTests.Images;

namespace Spherelet.Benchmarks;

/// <summary>
/// A pod with one container through CRI (the daemon as built, real libvirt VMs, a one-layer
/// busybox image from a local registry, pulled once before measuring): RunPodSandbox +
/// CreateContainer + StartContainer until StartContainer returns and until the container's
/// first CRI log line reaches the host, next to a plain QEMU boot of the same kernel and
/// initramfs to CRX ready, runs interleaved; N such pods started at once; and the host memory
/// a pod with one idle container costs (PSS of its QEMU plus its share of the agent's), side by
/// side with pods of a handler that cannot grow memory (what the virtio-mem room up to the host's
/// memory costs up front); and how fast a container's output reaches its log file on the host
/// (<see cref="LogThroughput"/>).
/// </summary>
internal static class ContainersBenchmark
{
    private const string Repository = "bench/busybox";
    private const string ContainerName = "bench";

    /// <summary>Where the kubelet puts a container's log, relative to the pod's log directory.</summary>
    private const string LogPath = ContainerName + "/0.log";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(5);

    /// <summary>A runtime handler like the default one whose VMs cannot grow memory.</summary>
    private const string NoGrowthHandler = "nogrowth";

    private static readonly Dictionary<string, string> Environment = new()
    {
        [$"SPHERELET__RUNTIMEHANDLERS__{NoGrowthHandler}__MAXMEMORYMIB"] = "256",
        ["SPHERELET__RUNTIMEHANDLERS__default__MEMORYMIB"] = "256",
    };

    /// <summary>How many pods of each handler the memory comparison starts, interleaved.</summary>
    private const int MemoryPodsPerHandler = 2;

    /// <summary>How much each of the three log throughput runs writes.</summary>
    private const int LogMib = 16;

    public static Task RunAsync(ContainersBenchOptions options, TextWriter output) =>
        PodVmSession.RunAsync(options.Daemon, options.Kernel, options.Initramfs, "sph-bench-ctr-", Environment, PushBusyboxAsync, null, async session =>
        {
            var (runtime, spec) = (session.Runtime, session.Image);

            var logs = Path.Combine(session.Directory, "logs");

            var sequential = new List<ContainerStartTiming>();
            var qemuMs = new List<double>();
            for (var run = 0; run < options.Runs; run++)
            {
                qemuMs.Add(await PlainQemu.ToReadyAsync(options.Kernel, options.Initramfs));
                var pod = await StartPodAsync(runtime, spec, logs, $"seq-{run}");
                sequential.Add(pod);
                await RemoveAsync(runtime, pod);
            }

            var logMibPerSecond = new List<double>();
            for (var run = 0; run < 3; run++)
            {
                logMibPerSecond.Add(await LogThroughput.MibPerSecondAsync(runtime, spec, logs, $"log-{run}", LogMib, StartTimeout));
            }

            var wall = Stopwatch.StartNew();
            var parallel = await Task.WhenAll(Enumerable.Range(0, options.Parallel).Select(i => StartPodAsync(runtime, spec, logs, $"at-once-{i}")));
            var parallelMs = wall.Elapsed.TotalMilliseconds;

            // Pods with an idle container: let the guests settle, then read PSS of each pod's QEMU and of the agent.
            await Task.Delay(TimeSpan.FromSeconds(3));
            var qemuPss = new List<double>();
            foreach (var pod in parallel)
            {
                qemuPss.Add(await PodMemory.QemuPssMibAsync(pod.PodId));
            }

            var agentPss = PodMemory.PssMib(session.Daemon.Id);
            var perPod = qemuPss.Average() + (agentPss / parallel.Length);
            foreach (var pod in parallel)
            {
                await RemoveAsync(runtime, pod);
            }

            // The same idle pod with and without room to grow memory, started alternately, side by side.
            var room = new Dictionary<string, List<double>> { ["default"] = [], [NoGrowthHandler] = [] };
            var roomPods = new List<ContainerStartTiming>();
            for (var i = 0; i < MemoryPodsPerHandler; i++)
            {
                foreach (var handler in room.Keys)
                {
                    roomPods.Add(await StartPodAsync(runtime, spec, logs, $"room-{handler}-{i}", handler));
                }
            }

            await Task.Delay(TimeSpan.FromSeconds(3));
            for (var i = 0; i < roomPods.Count; i++)
            {
                room[i % 2 == 0 ? "default" : NoGrowthHandler].Add(await PodMemory.QemuPssMibAsync(roomPods[i].PodId));
            }

            foreach (var pod in roomPods)
            {
                await RemoveAsync(runtime, pod);
            }

            Report(output, options, sequential, qemuMs, parallel, parallelMs, qemuPss, agentPss, perPod, logMibPerSecond, room["default"], room[NoGrowthHandler]);
        });

    private static void Report(
        TextWriter output, ContainersBenchOptions options, List<ContainerStartTiming> sequential, List<double> qemuMs,
        ContainerStartTiming[] parallel, double parallelMs, List<double> qemuPss, double agentPss, double perPod, List<double> logMibPerSecond,
        List<double> withRoom, List<double> withoutRoom)
    {
        var returnedMs = sequential.Select(p => p.StartReturnedMs).ToList();
        var logLineMs = sequential.Select(p => p.FirstLogLineMs).ToList();
        var parallelPodMs = parallel.Select(p => p.FirstLogLineMs).ToList();
        var start = Stats.Median(logLineMs);
        var qemu = Stats.Median(qemuMs);
        var ratio = start / qemu;
        output.WriteLine(
            $"containers: {options.Runs} pods one at a time (RunPodSandbox + CreateContainer + StartContainer, one busybox container each), " +
            $"interleaved with plain QEMU boots; {options.Parallel} pods at once; {(Spherelet.Domain.Node.HostVirtualization.KvmUsable ? "KVM" : "TCG")}");
        output.WriteLine();
        output.WriteLine("| measure                                             | median     | p90        | min        |");
        output.WriteLine("|-----------------------------------------------------|------------|------------|------------|");
        Row(output, "RunPodSandbox, to READY (ms)", sequential.Select(p => p.SandboxReadyMs).ToList());
        Row(output, "CreateContainer (ms)", sequential.Select(p => p.CreatedMs - p.SandboxReadyMs).ToList());
        Row(output, "StartContainer (ms)", sequential.Select(p => p.StartReturnedMs - p.CreatedMs).ToList());
        Row(output, "end to end, until StartContainer returned (ms)", returnedMs);
        Row(output, "end to end, until the first log line (ms)", logLineMs);
        Row(output, "plain QEMU start -> CRX answers Hello (ms)", qemuMs);
        Single(output, "ratio end to end (log line) / plain QEMU", Stats.F(ratio, "0.00"));
        Single(output, $"{options.Parallel} pods at once, wall to the last log line (ms)", Stats.F(parallelMs));
        Row(output, $"{options.Parallel} pods at once, each to its log line (ms)", parallelPodMs);
        output.WriteLine($"| {"QEMU PSS per pod, idle container (MiB)",-51} | {Stats.F(Stats.Median(qemuPss)),10} |            | {Stats.F(qemuPss.Min()),10} |");
        Single(output, "agent PSS (MiB), shared by the pods", Stats.F(agentPss));
        Single(output, "host memory per pod, idle container (MiB)", Stats.F(perPod));
        output.WriteLine($"| {"QEMU PSS, idle pod, memory room to the host's (MiB)",-51} | {Stats.F(Stats.Median(withRoom)),10} |            | {Stats.F(withRoom.Min()),10} |");
        output.WriteLine($"| {"QEMU PSS, idle pod, no memory growth (MiB)",-51} | {Stats.F(Stats.Median(withoutRoom)),10} |            | {Stats.F(withoutRoom.Min()),10} |");
        output.WriteLine($"| {$"log throughput, {LogMib} MiB container -> host file (MiB/s)",-51} | {Stats.F(Stats.Median(logMibPerSecond), "0.0"),10} |            | {Stats.F(logMibPerSecond.Min(), "0.0"),10} |");
        output.WriteLine();
        output.WriteLine(
            $"result: start_ratio={Stats.F(ratio, "0.00")} start_ms={Stats.F(start)} start_p90_ms={Stats.F(Stats.Percentile(logLineMs, 90))} " +
            $"start_returned_ms={Stats.F(Stats.Median(returnedMs))} plain_qemu_ms={Stats.F(qemu)} " +
            $"parallel_ms={Stats.F(parallelMs)} parallel_pod_ms={Stats.F(Stats.Median(parallelPodMs))} pss_mib_per_pod={Stats.F(perPod)} " +
            $"log_mib_s={Stats.F(Stats.Median(logMibPerSecond), "0.0")} " +
            $"growth_room_pss_mib={Stats.F(Stats.Median(withRoom))} no_growth_pss_mib={Stats.F(Stats.Median(withoutRoom))}");
    }

    private static void Row(TextWriter output, string name, List<double> values) =>
        output.WriteLine($"| {name,-51} | {Stats.F(Stats.Median(values)),10} | {Stats.F(Stats.Percentile(values, 90)),10} | {Stats.F(values.Min()),10} |");

    private static void Single(TextWriter output, string name, string value) =>
        output.WriteLine($"| {name,-51} | {value,10} |            |            |");

    /// <summary>Pushes a one-layer busybox image whose PATH finds its applets; returns its reference.</summary>
    private static async Task<string> PushBusyboxAsync(RegistryServer registry)
    {
        using var pusher = new RegistryPusher(registry);
        var config = new JsonObject { ["Cmd"] = new JsonArray("/bin/sh"), ["Env"] = new JsonArray("PATH=/bin") };
        await pusher.PushImageAsync(Repository, "1", [BusyboxLayer.Build()], config);
        return $"{registry.Host}/{Repository}:1";
    }

    private static async Task RemoveAsync(RuntimeService.RuntimeServiceClient runtime, ContainerStartTiming pod)
    {
        await runtime.StopContainerAsync(new StopContainerRequest { ContainerId = pod.ContainerId, Timeout = 0 });
        await runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = pod.ContainerId });
        await PodCalls.RemoveAsync(runtime, pod.PodId);
    }

    /// <summary>A pod with one container, started the way the kubelet does, and timed.</summary>
    private static async Task<ContainerStartTiming> StartPodAsync(RuntimeService.RuntimeServiceClient runtime, ImageSpec image, string logRoot, string name, string runtimeHandler = "")
    {
        var config = PodCalls.Config(name);
        config.LogDirectory = Path.Combine(logRoot, $"{config.Metadata.Namespace}_{name}_{config.Metadata.Uid}");
        using var stop = new CancellationTokenSource();
        var watch = Stopwatch.StartNew();
        // Watched from the start: the line may reach the host before StartContainer returns.
        var logLine = CriLogWatch.FirstLineAsync(Path.Combine(config.LogDirectory, LogPath), "stdout", "started", watch, StartTimeout, stop.Token);
        try
        {
            var podId = await PodCalls.RunAsync(runtime, config, runtimeHandler);
            var sandboxReady = watch.Elapsed.TotalMilliseconds;
            var created = await runtime.CreateContainerAsync(new CreateContainerRequest
            {
                PodSandboxId = podId,
                Config = new ContainerConfig
                {
                    Metadata = new ContainerMetadata { Name = ContainerName, Attempt = 0 },
                    Image = image,
                    Command = { "/bin/sh", "-c", "echo started; exec sleep 3600" },
                    LogPath = LogPath,
                },
                SandboxConfig = config,
            });
            var createdMs = watch.Elapsed.TotalMilliseconds;
            await runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });
            var startReturned = watch.Elapsed.TotalMilliseconds;
            return new ContainerStartTiming(podId, created.ContainerId, sandboxReady, createdMs, startReturned, await logLine);
        }
        finally
        {
            // After a failed call the watch is stopped; its cancellation is not an error of its own.
            await stop.CancelAsync();
            await Task.WhenAny(logLine);
        }
    }
}
