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
        var log = Path.Combine(vm.Share, "logs", "ticker.log");
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
                Stdio = new Stdio { LogPath = "/pod/logs/ticker.log" },
            }, cts.Token);
            await guest.StartContainerAsync("ticker", cts.Token);
        }

        var linesWhileAway = File.Exists(log) ? File.ReadAllLines(log).Length : 0;
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

        Assert.Equal("still here\n", stdout);
        Assert.Equal(0, exit.ExitCode);
        Assert.True(File.ReadAllLines(log).Length > linesWhileAway, "the container kept logging while no agent was connected");
        Assert.True(Assert.Single(stats.Containers).Stats.Pids >= 1, "the container's processes are still there");

        await again.ShutdownAsync(reboot: false, cts.Token);
        Assert.Equal(0, await vm.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        await again.Closed.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, secondAgent.OpenCount);
    }
}
