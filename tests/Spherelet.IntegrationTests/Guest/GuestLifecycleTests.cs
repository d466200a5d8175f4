using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Crx.Protocol.V1;
using Spherelet.Guest;

namespace Spherelet.IntegrationTests.Guest;

/// <summary>
/// A VM of its own, driven through the agent's guest client (<see cref="GuestConnections"/>):
/// connecting while the VM boots, an agent restart, and power-off.
/// </summary>
public sealed class GuestLifecycleTests
{
    [Fact]
    public async Task Agent_reconnects_after_a_restart_without_disturbing_a_running_container_and_shutdown_powers_the_vm_off()
    {
        await using var vm = GuestVm.Boot();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var options = new GuestChannelOptions { ConnectTimeout = TimeSpan.FromSeconds(120), HostVersion = "tests" };

        // The first agent connects while QEMU is still starting and the guest still booting.
        await using (var firstAgent = new GuestConnections(options, NullLogger<GuestConnections>.Instance))
        {
            var guest = await firstAgent.GetAsync("pod-1", vm.ChannelSocket, cts.Token);
            await guest.CreateContainerAsync(new CreateContainer
            {
                ContainerId = "ticker",
                Bundle = "/run/bundles/ticker",
                OciSpec = ByteString.CopyFrom(OciSpecs.Container("ticker", "/bin/sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done")),
                Stdio = new Stdio { Log = true },
            }, cts.Token);
            await guest.StartContainerAsync("ticker", cts.Token);
        }

        await Task.Delay(2000, cts.Token);

        await using var secondAgent = new GuestConnections(options, NullLogger<GuestConnections>.Instance);
        var again = await secondAgent.GetAsync("pod-1", vm.ChannelSocket, cts.Token);
        var exec = await again.ExecAsync(new ExecProcess
        {
            ContainerId = "ticker",
            ExecId = "after-reconnect",
            OciProcess = ByteString.CopyFrom(OciSpecs.ExecProcess("/bin/echo", "still here")),
        }, cts.Token);
        var (stdout, _, exit) = await exec.CollectAsync(cts.Token);
        var stats = await again.StatsAsync(["ticker"], cts.Token);
        // Nothing was acknowledged: the spool kept every tick while no agent was connected, in order.
        var ticks = new List<string>();
        await using (var log = await again.FollowLogAsync("ticker", 1 << 20, cts.Token))
        {
            await foreach (var batch in log.ReadAllAsync(cts.Token))
            {
                ticks.AddRange(batch.Entries.Select(e => System.Text.Encoding.UTF8.GetString(e.Content.Span)));
                if (ticks.Count >= 10)
                {
                    break;
                }
            }
        }

        Assert.Equal("still here\n", stdout);
        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(Enumerable.Range(0, ticks.Count).Select(i => $"tick {i}"), ticks);
        Assert.True(Assert.Single(stats.Containers).Stats.Pids >= 1, "the container's processes are still there");

        await again.ShutdownAsync(reboot: false, cts.Token);
        Assert.Equal(0, await vm.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        await again.Closed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, secondAgent.OpenCount);
    }
}
