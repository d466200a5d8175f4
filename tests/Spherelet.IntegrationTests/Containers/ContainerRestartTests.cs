using Grpc.Core;
using Runtime.V1;

namespace Spherelet.IntegrationTests.Containers;

/// <summary>
/// Containers outlive the agent: stopped while its containers run, a new agent on the same
/// directories reports each container as it really is, including one that exited while no
/// agent was there; what they wrote while it was away reaches their log files once it is back,
/// every line once and in order. One pod VM.
/// </summary>
[Collection(ContainerPod.Collection)]
public sealed class ContainerRestartTests : IClassFixture<ContainerPod>
{
    private static readonly TimeSpan AgentAway = TimeSpan.FromSeconds(9);

    // The VM's clock is stepped to the host's when it is more than 50 ms off.
    private const long Slack = 1_000_000_000L;

    private readonly ContainerPod _pod;

    public ContainerRestartTests(ContainerPod pod)
    {
        _pod = pod;
    }

    [Fact]
    public async Task After_an_agent_restart_containers_are_reported_as_they_are_with_exit_codes_from_while_it_was_away_and_logs_kept()
    {
        // Before: one container runs, one has exited with 3, one logs a line every second,
        // and one is started just before the agent goes away and exits with 7 while it is away.
        var sleeper = await _pod.RunAsync(_pod.Container("sleeper", "sleep", "1000"));
        var failed = await _pod.RunAsync(_pod.Container("failed", "sh", "-c", "exit 3"));
        var failedBefore = await _pod.WaitUntilExitedAsync(failed);
        var tickerConfig = _pod.Container("ticker", "sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done");
        var ticker = await _pod.RunAsync(tickerConfig);
        await _pod.WaitForLogAsync(tickerConfig, l => l.Count >= 1, ContainerPod.Slow);
        var beforeLate = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
        var late = await _pod.RunAsync(_pod.Container("late", "sh", "-c", "sleep 5; exit 7"));

        // The agent goes away for longer than the late container lives.
        _pod.StopDaemon();
        var ticksWhenStopped = (await _pod.LogAsync(tickerConfig)).Count;
        await Task.Delay(AgentAway);
        var ticksBeforeRestart = (await _pod.LogAsync(tickerConfig)).Count;
        var restarted = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
        await _pod.StartDaemonAsync();

        // After: a new agent on the same directories.
        var sleeperAfter = await _pod.StatusAsync(sleeper);
        var failedAfter = await _pod.StatusAsync(failed);
        var lateAfter = await _pod.StatusAsync(late);
        var tickerAfter = await _pod.StatusAsync(ticker);
        var listed = await _pod.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = _pod.PodId } });
        var exec = await _pod.ExecAsync(sleeper, 30, "echo", "still here");

        Assert.Equal(ContainerState.ContainerRunning, sleeperAfter.State);
        Assert.Equal(ContainerState.ContainerRunning, tickerAfter.State);
        Assert.Equal((ContainerState.ContainerExited, 3, "Error"), (failedAfter.State, failedAfter.ExitCode, failedAfter.Reason));
        Assert.Equal((failedBefore.StartedAt, failedBefore.FinishedAt), (failedAfter.StartedAt, failedAfter.FinishedAt));
        Assert.Equal((ContainerState.ContainerExited, 7, "Error"), (lateAfter.State, lateAfter.ExitCode, lateAfter.Reason));
        // The exit is placed on the host's clock inside the time the agent was away. How long
        // `sleep 5` takes in host time is not asserted: it is timed by the VM's clock, which
        // under TCG on a loaded host runs fast while no agent steps it (2.8 s was seen).
        Assert.True(
            beforeLate - Slack <= lateAfter.StartedAt && lateAfter.StartedAt <= lateAfter.FinishedAt && lateAfter.FinishedAt <= restarted + Slack,
            $"the late container ran from {lateAfter.StartedAt} to {lateAfter.FinishedAt}, outside {beforeLate}..{restarted}");
        Assert.Equal(new[] { sleeper, failed, ticker, late }.Order(), listed.Containers.Select(c => c.Id).Order());
        Assert.Equal(("still here\n", 0), (exec.Stdout.ToStringUtf8(), exec.ExitCode));
        // The host writes the log: nothing while the agent was away, all of it once it is back.
        Assert.Equal(ticksWhenStopped, ticksBeforeRestart);
        var ticks = await _pod.WaitForLogAsync(tickerConfig, l => l.Count > ticksBeforeRestart + 5, ContainerPod.Slow);
        Assert.Equal(Enumerable.Range(0, ticks.Count).Select(i => $"tick {i}"), ticks.Select(l => l.Message));

        foreach (var id in new[] { sleeper, failed, ticker, late })
        {
            await _pod.RemoveAsync(id);
            var gone = await Assert.ThrowsAsync<RpcException>(() => _pod.StatusAsync(id));
            Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        }
    }

    [Fact]
    public async Task Lines_written_while_the_agent_is_killed_and_restarted_are_in_the_log_file_exactly_once_and_in_order()
    {
        const int Lines = 400;
        var config = _pod.Container("numbers", "sh", "-c", $"i=0; while [ $i -lt {Lines} ]; do echo line $i; i=$((i+1)); sleep 0.02; done");
        var id = await _pod.RunAsync(config);
        await _pod.WaitForLogAsync(config, l => l.Count >= 20, ContainerPod.Slow);

        // A crash (SIGKILL) while lines are on their way, then a new agent a little later.
        _pod.StopDaemon();
        await Task.Delay(TimeSpan.FromSeconds(2));
        await _pod.StartDaemonAsync();
        await _pod.WaitUntilExitedAsync(id, TimeSpan.FromSeconds(120));

        var lines = await _pod.WaitForLogAsync(config, l => l.Count >= Lines, ContainerPod.Slow);
        Assert.Equal(Enumerable.Range(0, Lines).Select(i => $"line {i}"), lines.Select(l => l.Message));
        Assert.Equal(lines.Select(l => l.Time).Order(), lines.Select(l => l.Time));
        await _pod.RemoveAsync(id);
    }
}
