using System.Diagnostics;
using System.Text.Json.Nodes;
using Grpc.Core;
using Runtime.V1;
using Spherelet.Cri;
using Spherelet.IntegrationTests.Images;

namespace Spherelet.Benchmarks;

/// <summary>
/// For each VMM backend (libvirt and microvm), side by side: a pod with one container through CRI (the daemon as built, real VMs, a one-layer
/// busybox image from a local registry, pulled once before measuring): RunPodSandbox +
/// CreateContainer + StartContainer until StartContainer returns and until the container's
/// first CRI log line reaches the host, next to a plain QEMU boot of that backend's guest
/// (q35 with the bzImage, or microvm with the PVH kernel) to CRX ready, runs interleaved; N such pods started at once; and the host memory
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

    /// <summary>A libvirt runtime handler like <c>lv</c> whose VMs cannot grow memory.</summary>
    private const string NoGrowthHandler = "nogrowth";

    /// <summary>The libvirt handler whose VMs have room to grow memory (virtio-mem up to the host's memory).</summary>
    private const string GrowthHandler = "lv";

    /// <summary>The runtime handler of each backend measured, side by side: libvirt's q35 domains and QEMU's microvm run directly.</summary>
    private static readonly (string Vmm, string Handler)[] Backends = [("libvirt", "lv"), ("microvm", "micro")];

    private static Dictionary<string, string> Environment(ContainersBenchOptions options) => new()
    {
        [$"SPHERELET__RUNTIMEHANDLERS__{NoGrowthHandler}__MAXMEMORYMIB"] = "256",
        [$"SPHERELET__RUNTIMEHANDLERS__{NoGrowthHandler}__VMM"] = "libvirt",
        ["SPHERELET__RUNTIMEHANDLERS__default__MEMORYMIB"] = "256",
        ["SPHERELET__RUNTIMEHANDLERS__lv__VMM"] = "libvirt",
        ["SPHERELET__RUNTIMEHANDLERS__lv__MEMORYMIB"] = "256",
        ["SPHERELET__RUNTIMEHANDLERS__micro__VMM"] = "microvm",
        ["SPHERELET__RUNTIMEHANDLERS__micro__MEMORYMIB"] = "256",
        ["SPHERELET__GUEST__PVHKERNELPATH"] = options.PvhKernel,
    };

    /// <summary>How many pods of each handler the memory comparison starts, interleaved.</summary>
    private const int MemoryPodsPerHandler = 2;

    /// <summary>How much each of the three log throughput runs writes.</summary>
    private const int LogMib = 16;

    public static Task RunAsync(ContainersBenchOptions options, TextWriter output) =>
        PodVmSession.RunAsync(options.Daemon, options.Kernel, options.Initramfs, "sph-bench-ctr-", Environment(options), PushBusyboxAsync, null, async session =>
        {
            var (runtime, spec) = (session.Runtime, session.Image);

            var logs = Path.Combine(session.Directory, "logs");

            // One at a time, each backend's pod next to its own plain boot, all interleaved.
            var figures = Backends.ToDictionary(b => b.Vmm, _ => new BackendFigures(), StringComparer.Ordinal);
            for (var run = 0; run < options.Runs; run++)
            {
                foreach (var (vmm, handler) in Backends)
                {
                    var figure = figures[vmm];
                    figure.PlainMs.Add(vmm == "microvm"
                        ? await PlainQemu.MicrovmToReadyAsync(options.PvhKernel, options.Initramfs)
                        : await PlainQemu.ToReadyAsync(options.Kernel, options.Initramfs));
                    var pod = await StartPodAsync(runtime, spec, logs, $"seq-{handler}-{run}", handler);
                    figure.Sequential.Add(pod);
                    await RemoveAsync(runtime, pod);
                }
            }

            var (metricsOn, metricsOff, scrapeMs) = await MetricsCost.MeasureAsync(
                options, Environment(options), spec, logs, (client, image, root, name, handler) => StartPodAsync(client, image, root, name, handler), RemoveAsync, "micro");

            var logMibPerSecond = new List<double>();
            for (var run = 0; run < 3; run++)
            {
                logMibPerSecond.Add(await LogThroughput.MibPerSecondAsync(runtime, spec, logs, $"log-{run}", LogMib, StartTimeout));
            }

            var agentPss = new List<double>();
            foreach (var (vmm, handler) in Backends)
            {
                var figure = figures[vmm];
                var wall = Stopwatch.StartNew();
                figure.Parallel = await Task.WhenAll(Enumerable.Range(0, options.Parallel).Select(i => StartPodAsync(runtime, spec, logs, $"at-once-{handler}-{i}", handler)));
                figure.ParallelMs = wall.Elapsed.TotalMilliseconds;

                // Pods with an idle container: let the guests settle, then read PSS of each pod's QEMU and of the agent.
                await Task.Delay(TimeSpan.FromSeconds(3));
                foreach (var pod in figure.Parallel)
                {
                    figure.QemuPss.Add(PodMemory.QemuPssMib(pod.PodId));
                    var (guestRam, translation, own) = PodMemory.QemuPssSplitMib(pod.PodId);
                    figure.GuestRam.Add(guestRam);
                    figure.Translation.Add(translation);
                    figure.QemuOwn.Add(own);
                }

                agentPss.Add(PodMemory.PssMib(session.Daemon.Id));
                figure.PerPodMib = figure.QemuPss.Average() + (agentPss[^1] / figure.Parallel.Length);
                foreach (var pod in figure.Parallel)
                {
                    await RemoveAsync(runtime, pod);
                }
            }

            // The same idle libvirt pod with and without room to grow memory, started alternately, side by side.
            var room = new Dictionary<string, List<double>> { [GrowthHandler] = [], [NoGrowthHandler] = [] };
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
                room[i % 2 == 0 ? GrowthHandler : NoGrowthHandler].Add(PodMemory.QemuPssMib(roomPods[i].PodId));
            }

            foreach (var pod in roomPods)
            {
                await RemoveAsync(runtime, pod);
            }

            Report(output, options, figures, agentPss.Average(), logMibPerSecond, room[GrowthHandler], room[NoGrowthHandler], (metricsOn, metricsOff, scrapeMs));
        });

    private static void Report(
        TextWriter output, ContainersBenchOptions options, Dictionary<string, BackendFigures> figures, double agentPss, List<double> logMibPerSecond,
        List<double> withRoom, List<double> withoutRoom, (List<double> On, List<double> Off, List<double> ScrapeMs) metrics)
    {
        output.WriteLine(
            $"containers: {options.Runs} pods one at a time per backend (RunPodSandbox + CreateContainer + StartContainer, one busybox container each), " +
            $"interleaved with plain QEMU boots of that backend's guest; {options.Parallel} pods at once; {(Spherelet.Domain.Node.HostVirtualization.KvmUsable ? "KVM" : "TCG")}");
        output.WriteLine();
        output.WriteLine("| backend  | measure                                             | median     | p90        | min        |");
        output.WriteLine("|----------|-----------------------------------------------------|------------|------------|------------|");
        var result = new List<string>();
        foreach (var (vmm, _) in Backends)
        {
            var f = figures[vmm];
            var logLineMs = f.Sequential.Select(p => p.FirstLogLineMs).ToList();
            var returnedMs = f.Sequential.Select(p => p.StartReturnedMs).ToList();
            var parallelPodMs = f.Parallel.Select(p => p.FirstLogLineMs).ToList();
            var ratio = Stats.Median(logLineMs) / Stats.Median(f.PlainMs);
            Row(output, vmm, "RunPodSandbox, to READY (ms)", f.Sequential.Select(p => p.SandboxReadyMs).ToList());
            Row(output, vmm, "CreateContainer (ms)", f.Sequential.Select(p => p.CreatedMs - p.SandboxReadyMs).ToList());
            Row(output, vmm, "StartContainer (ms)", f.Sequential.Select(p => p.StartReturnedMs - p.CreatedMs).ToList());
            Row(output, vmm, "end to end, until StartContainer returned (ms)", returnedMs);
            Row(output, vmm, "end to end, until the first log line (ms)", logLineMs);
            Row(output, vmm, "plain QEMU start -> CRX answers Hello (ms)", f.PlainMs);
            Single(output, vmm, "ratio end to end (log line) / plain QEMU", Stats.F(ratio, "0.00"));
            Single(output, vmm, $"{options.Parallel} pods at once, wall to the last log line (ms)", Stats.F(f.ParallelMs));
            Row(output, vmm, $"{options.Parallel} pods at once, each to its log line (ms)", parallelPodMs);
            Row(output, vmm, "QEMU PSS per pod, idle container (MiB)", f.QemuPss);
            Row(output, vmm, "  of it guest RAM the guest touched (MiB)", f.GuestRam);
            Row(output, vmm, "  of it the TCG translation cache (MiB)", f.Translation);
            Row(output, vmm, "  of it QEMU's own (MiB)", f.QemuOwn);
            Single(output, vmm, "host memory per pod, idle container (MiB)", Stats.F(f.PerPodMib));
            result.Add(
                $"{vmm}_start_ratio={Stats.F(ratio, "0.00")} {vmm}_start_ms={Stats.F(Stats.Median(logLineMs))} {vmm}_start_p90_ms={Stats.F(Stats.Percentile(logLineMs, 90))} " +
                $"{vmm}_start_returned_ms={Stats.F(Stats.Median(returnedMs))} {vmm}_plain_qemu_ms={Stats.F(Stats.Median(f.PlainMs))} " +
                $"{vmm}_parallel_ms={Stats.F(f.ParallelMs)} {vmm}_pss_mib_per_pod={Stats.F(f.PerPodMib)} " +
                $"{vmm}_guest_ram_mib={Stats.F(Stats.Median(f.GuestRam))} {vmm}_tcg_cache_mib={Stats.F(Stats.Median(f.Translation))} {vmm}_qemu_own_mib={Stats.F(Stats.Median(f.QemuOwn))}");
        }

        Single(output, "both", "agent PSS (MiB), shared by the pods", Stats.F(agentPss));
        Row(output, "libvirt", "QEMU PSS, idle pod, memory room to the host's (MiB)", withRoom);
        Row(output, "libvirt", "QEMU PSS, idle pod, no memory growth (MiB)", withoutRoom);
        Row(output, "default", $"log throughput, {LogMib} MiB container -> host file (MiB/s)", logMibPerSecond, "0.0");
        Row(output, "microvm", "to first log line, metrics on, scraped every 1 s (ms)", metrics.On);
        Row(output, "microvm", "to first log line, metrics off (Port 0) (ms)", metrics.Off);
        var metricsRatio = Stats.Median(metrics.On) / Stats.Median(metrics.Off);
        Single(output, "microvm", "ratio metrics on / off", Stats.F(metricsRatio, "0.00"));
        Row(output, "default", "one scrape of /metrics (ms)", metrics.ScrapeMs, "0.00");
        output.WriteLine();
        output.WriteLine(
            $"result: {string.Join(' ', result)} log_mib_s={Stats.F(Stats.Median(logMibPerSecond), "0.0")} " +
            $"growth_room_pss_mib={Stats.F(Stats.Median(withRoom))} no_growth_pss_mib={Stats.F(Stats.Median(withoutRoom))} " +
            $"metrics_on_ms={Stats.F(Stats.Median(metrics.On))} metrics_off_ms={Stats.F(Stats.Median(metrics.Off))} metrics_ratio={Stats.F(metricsRatio, "0.00")} " +
            $"scrape_ms={Stats.F(Stats.Median(metrics.ScrapeMs), "0.00")}");
    }

    /// <summary>What one backend measured.</summary>
    private sealed class BackendFigures
    {
        public List<ContainerStartTiming> Sequential { get; } = [];

        public List<double> PlainMs { get; } = [];

        public ContainerStartTiming[] Parallel { get; set; } = [];

        public double ParallelMs { get; set; }

        public List<double> QemuPss { get; } = [];

        public List<double> GuestRam { get; } = [];

        public List<double> Translation { get; } = [];

        public List<double> QemuOwn { get; } = [];

        public double PerPodMib { get; set; }
    }

    private static void Row(TextWriter output, string backend, string name, List<double> values, string format = "0.0") =>
        output.WriteLine($"| {backend,-8} | {name,-51} | {Stats.F(Stats.Median(values), format),10} | {Stats.F(Stats.Percentile(values, 90), format),10} | {Stats.F(values.Min(), format),10} |");

    private static void Single(TextWriter output, string backend, string name, string value) =>
        output.WriteLine($"| {backend,-8} | {name,-51} | {value,10} |            |            |");

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
