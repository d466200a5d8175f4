using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Runtime.V1;
using Spherelet.Cri;
using Spherelet.IntegrationTests.Containers;
using Spherelet.IntegrationTests.Images;
using Spherelet.IntegrationTests.Streaming;

namespace Spherelet.Benchmarks;

/// <summary>
/// The streaming server through CRI (the daemon as built, a real libvirt pod VM with one
/// container of the busybox test image): <c>true</c> exec'd through a streaming URL (CRI Exec,
/// WebSocket upgrade with v5.channel.k8s.io, the exit status on the error channel) next to
/// ExecSync of <c>true</c> in the same container, runs interleaved; and the throughput of a
/// port-forward URL (WebSocket, portforward.k8s.io) reading zeros from a TCP server in the pod
/// (busybox <c>nc -ll -e dd</c>, the container's own command).
/// </summary>
internal static class StreamingBenchmark
{
    private const int ServerPort = 9000;

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    public static Task RunAsync(StreamingBenchOptions options, TextWriter output) =>
        PodVmSession.RunAsync(
            options.Daemon,
            options.Kernel,
            options.Initramfs,
            "sph-bench-stream-",
            new Dictionary<string, string>(StringComparer.Ordinal) { ["SPHERELET__GUEST__CONNECTTIMEOUTSECONDS"] = "180" },
            PodVmSession.PushTestImageAsync,
            null,
            async session =>
            {
                var (runtime, spec) = (session.Runtime, session.Image);

                var (podId, containerId) = await StartPodAsync(runtime, spec, options.Mib);

                // Untimed first rounds: the first use of each path (JIT, the guest's page cache) is not what is measured.
                await ExecSyncAsync(runtime, containerId);
                await StreamingExecAsync(runtime, containerId);
                var warmUp = await FirstTransferAsync(runtime, podId);
                CheckSize(warmUp, options.Mib);

                var exec = new List<StreamingExecTiming>();
                var execSync = new List<double>();
                for (var run = 0; run < options.Runs; run++)
                {
                    // Alternating which goes first, so that neither always follows the other.
                    if (run % 2 == 0)
                    {
                        exec.Add(await StreamingExecAsync(runtime, containerId));
                        execSync.Add(await ExecSyncAsync(runtime, containerId));
                    }
                    else
                    {
                        execSync.Add(await ExecSyncAsync(runtime, containerId));
                        exec.Add(await StreamingExecAsync(runtime, containerId));
                    }
                }

                var transfers = new List<PortForwardTiming>();
                for (var transfer = 0; transfer < options.Transfers; transfer++)
                {
                    var timing = await TransferAsync(runtime, podId);
                    CheckSize(timing, options.Mib);
                    transfers.Add(timing);
                }

                await PodCalls.RemoveAsync(runtime, podId);
                Report(output, options, new StreamingFigures(exec, execSync, transfers), warmUp);
            });

    private static void Report(TextWriter output, StreamingBenchOptions options, StreamingFigures f, PortForwardTiming warmUp)
    {
        var statusMs = f.Exec.Select(e => e.StatusMs).ToList();
        var mbps = f.Transfers.Select(t => t.Mbps).ToList();
        var exec = Stats.Median(statusMs);
        var execSync = Stats.Median(f.ExecSync);
        var ratio = exec / execSync;
        output.WriteLine(
            $"streaming: {options.Runs} execs of `true` through a streaming URL (CRI Exec + WebSocket v5.channel.k8s.io until the status on the error channel) " +
            $"interleaved with {options.Runs} ExecSync of `true` in the same container; {options.Transfers} port-forward transfer{(options.Transfers == 1 ? string.Empty : "s")} " +
            $"of {options.Mib} MiB (WebSocket portforward.k8s.io from busybox nc -e dd in the pod); {(Spherelet.Domain.Node.HostVirtualization.KvmUsable ? "KVM" : "TCG")}");
        output.WriteLine();
        output.WriteLine("| measure                                             | median     | p90        | min        |");
        output.WriteLine("|-----------------------------------------------------|------------|------------|------------|");
        Row(output, "exec `true`, streaming: CRI Exec returned URL (ms)", f.Exec.Select(e => e.UrlMs).ToList());
        Row(output, "exec `true`, streaming: WebSocket upgraded (ms)", f.Exec.Select(e => e.UpgradedMs).ToList());
        Row(output, "exec `true`, streaming: status received (ms)", statusMs);
        Row(output, "ExecSync `true` (ms)", f.ExecSync);
        Single(output, "ratio exec streaming / ExecSync (medians)", Stats.F(ratio, "0.00"));
        Row(output, "port-forward throughput (Mbit/s)", mbps);
        Row(output, "port-forward throughput (MiB/s)", f.Transfers.Select(t => t.Mbps * 1e6 / 8 / 1048576).ToList());
        Row(output, "port-forward: CRI call to first data byte (ms)", f.Transfers.Select(t => t.FirstByteMs).ToList());
        Row(output, "port-forward: first to last data byte (ms)", f.Transfers.Select(t => t.TransferMs).ToList());
        Single(output, "port-forward warm-up transfer, untimed (Mbit/s)", Stats.F(warmUp.Mbps));
        output.WriteLine();
        output.WriteLine(
            $"result: exec_ms={Stats.F(exec)} exec_p90_ms={Stats.F(Stats.Percentile(statusMs, 90))} " +
            $"execsync_ms={Stats.F(execSync)} execsync_p90_ms={Stats.F(Stats.Percentile(f.ExecSync, 90))} exec_ratio={Stats.F(ratio, "0.00")} " +
            $"portforward_mbps={Stats.F(Stats.Median(mbps))} portforward_mib={Invariant(options.Mib)}");
    }

    private static void Row(TextWriter output, string name, IReadOnlyList<double> values) =>
        output.WriteLine($"| {name,-51} | {Stats.F(Stats.Median(values)),10} | {Stats.F(Stats.Percentile(values, 90)),10} | {Stats.F(values.Min()),10} |");

    private static void Single(TextWriter output, string name, string value) =>
        output.WriteLine($"| {name,-51} | {value,10} |            |            |");

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A pod whose one container is the TCP server the transfers read from: each connection to
    /// <see cref="ServerPort"/> gets <paramref name="mib"/> MiB of zeros (busybox <c>nc -ll</c> keeps
    /// listening and runs <c>dd</c> per connection). The execs run in the same container.
    /// </summary>
    private static async Task<(string PodId, string ContainerId)> StartPodAsync(RuntimeService.RuntimeServiceClient runtime, ImageSpec image, int mib)
    {
        var config = PodCalls.Config("streaming");
        var podId = await PodCalls.RunAsync(runtime, config);
        var container = await runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = podId,
            Config = new ContainerConfig
            {
                Metadata = new ContainerMetadata { Name = "stream", Attempt = 0 },
                Image = image,
                Command = { "/bin/sh", "-c", $"exec nc -ll -p {Invariant(ServerPort)} -e dd if=/dev/zero bs=64k count={Invariant(mib * 16)}" },
            },
            SandboxConfig = config,
        });
        await runtime.StartContainerAsync(new StartContainerRequest { ContainerId = container.ContainerId });
        return (podId, container.ContainerId);
    }

    /// <summary>ExecSync of <c>true</c>, timed from the call to its answer; anything but exit code 0 is a failure.</summary>
    private static async Task<double> ExecSyncAsync(RuntimeService.RuntimeServiceClient runtime, string containerId)
    {
        var watch = Stopwatch.StartNew();
        var response = await runtime.ExecSyncAsync(
            new ExecSyncRequest { ContainerId = containerId, Cmd = { "true" }, Timeout = (long)CallTimeout.TotalSeconds },
            deadline: DateTime.UtcNow + CallTimeout);
        var elapsed = watch.Elapsed.TotalMilliseconds;
        return response.ExitCode == 0
            ? elapsed
            : throw new InvalidOperationException($"ExecSync true exited with {response.ExitCode}: {response.Stderr.ToStringUtf8().Trim()}");
    }

    /// <summary>
    /// <c>true</c> exec'd the way kubectl exec does it (stdout and stderr, no stdin): the CRI Exec
    /// call, the WebSocket upgrade of its URL, reading until the status arrives on the error
    /// channel (timed), then the close handshake (not timed). A status other than Success is a failure.
    /// </summary>
    private static async Task<StreamingExecTiming> StreamingExecAsync(RuntimeService.RuntimeServiceClient runtime, string containerId)
    {
        var watch = Stopwatch.StartNew();
        var url = (await runtime.ExecAsync(
            new ExecRequest { ContainerId = containerId, Cmd = { "true" }, Stdout = true, Stderr = true },
            deadline: DateTime.UtcNow + CallTimeout)).Url;
        var urlMs = watch.Elapsed.TotalMilliseconds;
        using var client = await ChannelStreamClient.ConnectAsync(url, "v5.channel.k8s.io");
        var upgradedMs = watch.Elapsed.TotalMilliseconds;
        await client.ReadUntilAsync(() => client.Error.Length > 0, CallTimeout);
        var statusMs = watch.Elapsed.TotalMilliseconds;
        await client.ReadToEndAsync(CallTimeout);

        if (client.Protocol != "v5.channel.k8s.io")
        {
            throw new InvalidOperationException($"the streaming server chose '{client.Protocol}', not v5.channel.k8s.io");
        }

        using var status = JsonDocument.Parse(client.Error.Length > 0 ? client.Error : "{}");
        return status.RootElement.TryGetProperty("status", out var value) && value.GetString() == "Success"
            ? new StreamingExecTiming(urlMs, upgradedMs, statusMs)
            : throw new InvalidOperationException($"exec true through {url} ended with status '{client.Error}' (stderr '{client.Stderr.Trim()}')");
    }

    /// <summary>One transfer through a fresh port-forward URL: the CRI PortForward call, then reading until the pod's server has sent everything.</summary>
    private static async Task<PortForwardTiming> TransferAsync(RuntimeService.RuntimeServiceClient runtime, string podId)
    {
        var watch = Stopwatch.StartNew();
        var url = (await runtime.PortForwardAsync(
            new PortForwardRequest { PodSandboxId = podId, Port = { ServerPort } },
            deadline: DateTime.UtcNow + CallTimeout)).Url;
        return await PortForwardReader.ReadAsync(url, watch, TimeSpan.FromMinutes(5));
    }

    /// <summary>The first transfer, tried again while the server in the pod is not yet listening (the container has just started).</summary>
    private static async Task<PortForwardTiming> FirstTransferAsync(RuntimeService.RuntimeServiceClient runtime, string podId)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                return await TransferAsync(runtime, podId);
            }
            catch (InvalidOperationException e) when (DateTime.UtcNow < deadline && e.Message.Contains("error forwarding port", StringComparison.Ordinal))
            {
                await Task.Delay(500);
            }
        }
    }

    private static void CheckSize(PortForwardTiming timing, int mib)
    {
        if (timing.Bytes != mib * 1048576L)
        {
            throw new InvalidOperationException($"port forward read {timing.Bytes} bytes, not the {mib} MiB the server in the pod sends");
        }
    }
}
