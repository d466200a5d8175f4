using System.Diagnostics;
using Grpc.Core;
using Runtime.V1;

namespace Spherelet.IntegrationTests.Containers;

/// <summary>
/// Running containers through CRI: ExecSync, StopContainer's signals and grace period, the
/// memory limit and its OOM kill, resource updates, stats of containers and of the pod, and
/// the network the containers of a pod share. One pod VM for the whole class.
/// </summary>
[Collection(ContainerPod.Collection)]
public sealed class ContainerExecStopAndStatsTests : IClassFixture<ContainerPod>
{
    private const long MiB = 1024 * 1024;

    private readonly ContainerPod _pod;

    public ContainerExecStopAndStatsTests(ContainerPod pod)
    {
        _pod = pod;
    }

    [Fact]
    public async Task ExecSync_returns_stdout_stderr_and_a_non_zero_exit_code_as_a_normal_answer()
    {
        var id = await _pod.RunAsync(_pod.Container("exec", "sleep", "1000"));

        var result = await _pod.ExecAsync(id, 30, "sh", "-c", "echo out; echo err >&2; exit 5");

        Assert.Equal("out\n", result.Stdout.ToStringUtf8());
        Assert.Equal("err\n", result.Stderr.ToStringUtf8());
        Assert.Equal(5, result.ExitCode);
        Assert.Equal(ContainerState.ContainerRunning, (await _pod.StatusAsync(id)).State);
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task ExecSync_of_a_missing_command_exits_127_and_of_a_file_that_is_not_executable_126_with_the_reason_on_stderr()
    {
        var id = await _pod.RunAsync(_pod.Container("exec-missing", "sleep", "1000"));

        var missing = await _pod.ExecAsync(id, 30, "no-such-command", "arg");
        var notExecutable = await _pod.ExecAsync(id, 30, "/etc/passwd");
        var stillWorks = await _pod.ExecAsync(id, 30, "true");

        Assert.Equal(127, missing.ExitCode);
        Assert.Contains("no-such-command", missing.Stderr.ToStringUtf8(), StringComparison.Ordinal);
        Assert.Contains("not found", missing.Stderr.ToStringUtf8(), StringComparison.Ordinal);
        Assert.Equal(126, notExecutable.ExitCode);
        Assert.Contains("Permission denied", notExecutable.Stderr.ToStringUtf8(), StringComparison.Ordinal);
        Assert.Equal(0, stillWorks.ExitCode);
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task ExecSync_past_its_timeout_is_deadline_exceeded_and_its_process_is_killed()
    {
        var id = await _pod.RunAsync(_pod.Container("exec-timeout", "sleep", "1000"));

        // Were the process not killed, it would leave /tmp/finished 4 s after it started.
        var failure = await Assert.ThrowsAsync<RpcException>(() => _pod.ExecAsync(id, 1, "sh", "-c", "sleep 4; touch /tmp/finished"));
        await Task.Delay(TimeSpan.FromSeconds(6));
        var check = await _pod.ExecAsync(id, 30, "ls", "/tmp");

        Assert.Equal(StatusCode.DeadlineExceeded, failure.StatusCode);
        Assert.Equal(0, check.ExitCode);
        Assert.DoesNotContain("finished", check.Stdout.ToStringUtf8(), StringComparison.Ordinal);
        Assert.Equal(ContainerState.ContainerRunning, (await _pod.StatusAsync(id)).State);
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task ExecSync_in_a_container_that_is_not_running_is_failed_precondition()
    {
        var created = await _pod.CreateAsync(_pod.Container("exec-created", "sleep", "1000"));
        var exited = await _pod.RunAsync(_pod.Container("exec-exited", "true"));
        await _pod.WaitUntilExitedAsync(exited);

        var notStarted = await Assert.ThrowsAsync<RpcException>(() => _pod.ExecAsync(created, 30, "true"));
        var finished = await Assert.ThrowsAsync<RpcException>(() => _pod.ExecAsync(exited, 30, "true"));

        Assert.Equal(StatusCode.FailedPrecondition, notStarted.StatusCode);
        Assert.Equal(StatusCode.FailedPrecondition, finished.StatusCode);
        await _pod.RemoveAsync(created);
        await _pod.RemoveAsync(exited);
    }

    [Fact]
    public async Task StopContainer_sends_sigterm_first_and_a_process_that_handles_it_exits_with_its_own_code()
    {
        var config = _pod.Container("graceful", "sh", "-c", "trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.2; done");
        var id = await _pod.RunAsync(config);
        await _pod.WaitForLogAsync(config, l => l.Any(r => r.Message == "ready"), ContainerPod.Slow);

        var clock = Stopwatch.StartNew();
        await _pod.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 30 });
        clock.Stop();
        var status = await _pod.StatusAsync(id);
        var stdout = await _pod.StdoutAsync(config, "got TERM");

        Assert.Equal(ContainerState.ContainerExited, status.State);
        Assert.Equal(0, status.ExitCode);
        Assert.Equal("Completed", status.Reason);
        Assert.Contains("got TERM", stdout);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), $"the stop took {clock.Elapsed}: the process was not sent SIGTERM");
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task StopContainer_right_after_StartContainer_reaches_a_first_process_that_sets_its_sigterm_handler_late()
    {
        // The container's init has no handler for its first two seconds: the kernel drops a SIGTERM
        // sent then. The stop comes at once, as critest's does after StartContainer.
        var config = _pod.Container("late-trap", "sh", "-c", "sleep 2; trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.2; done");
        var id = await _pod.RunAsync(config);

        var clock = Stopwatch.StartNew();
        await _pod.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 60 });
        clock.Stop();
        var status = await _pod.StatusAsync(id);

        Assert.Equal((ContainerState.ContainerExited, 0, "Completed"), (status.State, status.ExitCode, status.Reason));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(50), $"the stop took {clock.Elapsed}: SIGTERM never reached the process");
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task StopContainer_kills_a_process_that_ignores_sigterm_after_the_timeout_and_stopping_again_changes_nothing()
    {
        var config = _pod.Container("stubborn", "sh", "-c", "trap '' TERM; echo ready; while true; do sleep 1; done");
        var id = await _pod.RunAsync(config);
        await _pod.WaitForLogAsync(config, l => l.Any(r => r.Message == "ready"), ContainerPod.Slow);

        var clock = Stopwatch.StartNew();
        await _pod.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 2 });
        clock.Stop();
        var stopped = await _pod.StatusAsync(id);
        await _pod.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 2 });
        var again = await _pod.StatusAsync(id);

        Assert.Equal(ContainerState.ContainerExited, stopped.State);
        Assert.Equal(137, stopped.ExitCode);
        Assert.Equal("Error", stopped.Reason);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.5), $"killed after {clock.Elapsed}, before the 2 s timeout");
        Assert.Equal(
            (stopped.State, stopped.ExitCode, stopped.Reason, stopped.StartedAt, stopped.FinishedAt),
            (again.State, again.ExitCode, again.Reason, again.StartedAt, again.FinishedAt));
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task A_container_that_goes_over_its_memory_limit_is_oom_killed()
    {
        // dd itself is the container's process: its 96 MiB buffer cannot fit in 32 MiB.
        var config = _pod.Container("hungry", "dd", "if=/dev/zero", "of=/dev/null", "bs=96M", "count=1");
        config.Linux = new LinuxContainerConfig { Resources = new LinuxContainerResources { MemoryLimitInBytes = 32 * MiB } };
        var id = await _pod.RunAsync(config);

        var exited = await _pod.WaitUntilExitedAsync(id);

        Assert.Equal("OOMKilled", exited.Reason);
        Assert.Equal(137, exited.ExitCode);
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task UpdateContainerResources_changes_the_limits_the_running_container_sees_in_its_cgroup()
    {
        var config = _pod.Container("resized", "sleep", "1000");
        config.Linux = new LinuxContainerConfig { Resources = new LinuxContainerResources { MemoryLimitInBytes = 64 * MiB } };
        var id = await _pod.RunAsync(config);
        var before = await _pod.ExecAsync(id, 30, "cat", "/sys/fs/cgroup/memory.max");

        await _pod.Runtime.UpdateContainerResourcesAsync(new UpdateContainerResourcesRequest
        {
            ContainerId = id,
            Linux = new LinuxContainerResources { MemoryLimitInBytes = 48 * MiB, CpuQuota = 50_000, CpuPeriod = 100_000 },
        });
        var memory = await _pod.ExecAsync(id, 30, "cat", "/sys/fs/cgroup/memory.max");
        var cpu = await _pod.ExecAsync(id, 30, "cat", "/sys/fs/cgroup/cpu.max");

        Assert.Equal($"{64 * MiB}\n", before.Stdout.ToStringUtf8());
        Assert.Equal($"{48 * MiB}\n", memory.Stdout.ToStringUtf8());
        Assert.Equal("50000 100000\n", cpu.Stdout.ToStringUtf8());
        Assert.Equal(ContainerState.ContainerRunning, (await _pod.StatusAsync(id)).State);
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task ContainerStats_report_memory_and_cpu_time_that_grows_with_work()
    {
        var config = _pod.Container("measured", "sleep", "1000");
        config.Labels.Add("stats", "measured");
        var id = await _pod.RunAsync(config);

        var first = (await _pod.Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id })).Stats;
        var work = await _pod.ExecAsync(id, 60, "sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        ContainerStats second;
        do
        {
            await Task.Delay(500);
            second = (await _pod.Runtime.ContainerStatsAsync(new ContainerStatsRequest { ContainerId = id })).Stats;
        }
        while (second.Cpu.UsageCoreNanoSeconds.Value <= first.Cpu.UsageCoreNanoSeconds.Value && DateTime.UtcNow < deadline);
        var inPod = await _pod.Runtime.ListContainerStatsAsync(new ListContainerStatsRequest { Filter = new ContainerStatsFilter { PodSandboxId = _pod.PodId } });
        var byId = await _pod.Runtime.ListContainerStatsAsync(new ListContainerStatsRequest { Filter = new ContainerStatsFilter { Id = id } });
        var byLabel = await _pod.Runtime.ListContainerStatsAsync(new ListContainerStatsRequest { Filter = new ContainerStatsFilter { LabelSelector = { ["stats"] = "measured" } } });

        Assert.Equal(0, work.ExitCode);
        Assert.Equal((id, "measured"), (first.Attributes.Id, first.Attributes.Metadata.Name));
        Assert.Equal("measured", first.Attributes.Labels["stats"]);
        Assert.True(first.Cpu.Timestamp > 0 && first.Memory.Timestamp > 0, "timestamps");
        Assert.True(first.Cpu.UsageCoreNanoSeconds.Value > 0, "cpu time");
        Assert.True(first.Memory.WorkingSetBytes.Value > 0, "working set");
        Assert.True(
            second.Cpu.UsageCoreNanoSeconds.Value > first.Cpu.UsageCoreNanoSeconds.Value,
            $"cpu time {first.Cpu.UsageCoreNanoSeconds.Value} ns before the work, {second.Cpu.UsageCoreNanoSeconds.Value} ns after");
        Assert.True(second.Cpu.Timestamp > first.Cpu.Timestamp, "a later timestamp");
        Assert.Contains(inPod.Stats, s => s.Attributes.Id == id);
        Assert.Equal(id, Assert.Single(byId.Stats).Attributes.Id);
        Assert.Equal(id, Assert.Single(byLabel.Stats).Attributes.Id);
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task PodSandboxStats_report_the_pod_vm_and_its_running_containers()
    {
        var id = await _pod.RunAsync(_pod.Container("pod-measured", "sleep", "1000"));

        var stats = (await _pod.Runtime.PodSandboxStatsAsync(new PodSandboxStatsRequest { PodSandboxId = _pod.PodId })).Stats;
        var all = await _pod.Runtime.ListPodSandboxStatsAsync(new ListPodSandboxStatsRequest());
        var byId = await _pod.Runtime.ListPodSandboxStatsAsync(new ListPodSandboxStatsRequest { Filter = new PodSandboxStatsFilter { Id = _pod.PodId } });

        Assert.Equal(_pod.PodId, stats.Attributes.Id);
        Assert.Equal(_pod.PodConfig.Metadata.Name, stats.Attributes.Metadata.Name);
        Assert.True(stats.Linux.Cpu.UsageCoreNanoSeconds.Value > 0, "pod cpu time");
        Assert.True(stats.Linux.Cpu.Timestamp > 0, "cpu timestamp");
        Assert.True(stats.Linux.Memory.WorkingSetBytes.Value > 0, "pod working set");
        Assert.True(stats.Linux.Process.ProcessCount.Value > 0, "pod processes");
        var container = Assert.Single(stats.Linux.Containers, c => c.Attributes.Id == id);
        Assert.True(container.Cpu.UsageCoreNanoSeconds.Value > 0, "container cpu time");
        Assert.Contains(all.Stats, s => s.Attributes.Id == _pod.PodId);
        Assert.Equal(_pod.PodId, Assert.Single(byId.Stats).Attributes.Id);
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task ListPodSandboxMetrics_and_ListContainerStats_agree_with_what_the_guests_cgroups_and_interfaces_report()
    {
        // Two seconds of CPU, 2 MiB in the writable layer, then nothing moves but what the measuring does.
        var config = _pod.Container("metered", "sh", "-c", "busybox timeout 2 sh -c 'while :; do :; done'; dd if=/dev/zero of=/blob bs=1M count=2 2>/dev/null; echo ready; exec sleep 1000");
        var id = await _pod.RunAsync(config);
        await _pod.WaitForLogAsync(config, lines => lines.Any(l => l.Message == "ready"));

        var before = await GuestCountersAsync(id);
        var response = await _pod.Runtime.ListPodSandboxMetricsAsync(new ListPodSandboxMetricsRequest());
        var stats = Assert.Single((await _pod.Runtime.ListContainerStatsAsync(new ListContainerStatsRequest { Filter = new ContainerStatsFilter { Id = id } })).Stats);
        var after = await GuestCountersAsync(id);
        var descriptors = (await _pod.Runtime.ListMetricDescriptorsAsync(new ListMetricDescriptorsRequest())).Descriptors.ToDictionary(d => d.Name, StringComparer.Ordinal);

        var pod = Assert.Single(response.PodMetrics, p => p.PodSandboxId == _pod.PodId);
        var all = pod.Metrics.Concat(pod.ContainerMetrics.SelectMany(c => c.Metrics)).ToList();
        Assert.All(all, m => Assert.Equal(descriptors[m.Name].LabelKeys.Count, m.LabelValues.Count));
        var mine = Assert.Single(pod.ContainerMetrics, c => c.ContainerId == id).Metrics;
        ulong Value(IEnumerable<Metric> metrics, string name, params string[] extra) =>
            metrics.Single(m => m.Name == name && m.LabelValues.Skip(5).SequenceEqual(extra)).Value.Value;
        Assert.Equal([id, _pod.Image, _pod.PodConfig.Metadata.Namespace, _pod.PodConfig.Metadata.Name, "metered", "total"], mine.Single(m => m.Name == "container_cpu_usage_seconds_total").LabelValues);

        // CPU: the container's cgroup time, read before and after, brackets both answers (metrics in whole seconds).
        Assert.InRange(Value(mine, "container_cpu_usage_seconds_total", "total"), before["usage_usec"] / 1_000_000, after["usage_usec"] / 1_000_000);
        Assert.True(Value(mine, "container_cpu_usage_seconds_total", "total") >= 1, "two seconds of spinning show as at least one whole second");
        Assert.InRange(stats.Cpu.UsageCoreNanoSeconds.Value, before["usage_usec"] * 1000, after["usage_usec"] * 1000);
        Assert.InRange(Value(mine, "container_cpu_user_seconds_total") + Value(mine, "container_cpu_system_seconds_total"), (before["usage_usec"] / 1_000_000) - 1, after["usage_usec"] / 1_000_000);

        // Memory: memory.current less inactive_file, give or take what the measuring processes used.
        var workingBefore = before["memory.current"] - before["inactive_file"];
        var slack = Math.Max(4UL << 20, workingBefore / 4);
        Assert.InRange(Value(mine, "container_memory_working_set_bytes"), workingBefore - Math.Min(slack, workingBefore), workingBefore + slack);
        Assert.InRange(stats.Memory.WorkingSetBytes.Value, workingBefore - Math.Min(slack, workingBefore), workingBefore + slack);
        Assert.InRange(Value(mine, "container_memory_rss"), 1UL, before["memory.current"] + slack);

        // The writable layer holds the 2 MiB file: both answers say the same.
        Assert.True(stats.WritableLayer.UsedBytes.Value >= 2UL << 20, $"writable layer {stats.WritableLayer.UsedBytes.Value} bytes");
        Assert.Equal(stats.WritableLayer.UsedBytes.Value, Value(mine, "container_fs_usage_bytes"));

        // The pod's own: its VM's loopback counters, bracketed the same way, and its CPU at least the container's.
        Assert.InRange(Value(pod.Metrics, "container_network_receive_bytes_total", "lo"), before["lo_rx_bytes"], after["lo_rx_bytes"]);
        Assert.InRange(Value(pod.Metrics, "container_network_transmit_packets_total", "lo"), before["lo_tx_packets"], after["lo_tx_packets"]);
        Assert.True(Value(pod.Metrics, "container_cpu_usage_seconds_total", "total") >= Value(mine, "container_cpu_usage_seconds_total", "total"));
        Assert.Equal([_pod.PodId, string.Empty, _pod.PodConfig.Metadata.Namespace, _pod.PodConfig.Metadata.Name, "POD"], pod.Metrics.Single(m => m.Name == "container_memory_working_set_bytes").LabelValues);
        await _pod.RemoveAsync(id);
    }

    /// <summary>What the container's own cgroup (cpu.stat, memory.current, memory.stat) and the VM's loopback say, read inside the container.</summary>
    private async Task<Dictionary<string, ulong>> GuestCountersAsync(string id)
    {
        var read = await _pod.ExecAsync(
            id,
            30,
            "sh",
            "-c",
            "cat /sys/fs/cgroup/cpu.stat /sys/fs/cgroup/memory.stat; echo memory.current $(cat /sys/fs/cgroup/memory.current); "
                + "echo lo_rx_bytes $(cat /sys/class/net/lo/statistics/rx_bytes); echo lo_tx_packets $(cat /sys/class/net/lo/statistics/tx_packets)");
        Assert.Equal(0, read.ExitCode);
        var counters = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var line in read.Stdout.ToStringUtf8().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 2 && ulong.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                counters.TryAdd(parts[0], value);
            }
        }

        return counters;
    }

    [Fact]
    public async Task Two_containers_of_a_pod_share_its_network_and_reach_each_other_on_localhost()
    {
        var server = await _pod.RunAsync(_pod.Container("web", "httpd", "-f", "-p", "8080", "-h", "/www"));
        var client = await _pod.RunAsync(_pod.Container("web-client", "sleep", "1000"));

        // The server may need a moment to listen.
        var deadline = DateTime.UtcNow + ContainerPod.Slow;
        ExecSyncResponse fetched;
        do
        {
            fetched = await _pod.ExecAsync(client, 30, "wget", "-qO-", "http://127.0.0.1:8080/index.html");
            if (fetched.ExitCode != 0)
            {
                await Task.Delay(500);
            }
        }
        while (fetched.ExitCode != 0 && DateTime.UtcNow < deadline);

        Assert.True(fetched.ExitCode == 0, $"wget exited {fetched.ExitCode}: {fetched.Stderr.ToStringUtf8()}");
        Assert.Equal(ContainerTestImage.WebPage, fetched.Stdout.ToStringUtf8());
        await _pod.RemoveAsync(client);
        await _pod.RemoveAsync(server);
    }
}
