using Google.Protobuf;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.IntegrationTests.Guest;

/// <summary>A VM of its own: the host reconnecting (an agent restart) and power-off.</summary>
public sealed class GuestLifecycleTests
{
    [Fact]
    public async Task Host_reconnects_without_disturbing_a_running_container_and_shutdown_powers_the_vm_off()
    {
        await using var vm = GuestVm.Boot();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var log = Path.Combine(vm.Share, "logs", "ticker.log");
        await using (var first = await vm.ConnectAsync())
        {
            await first.CallAsync(new Request
            {
                CreateContainer = new CreateContainer
                {
                    ContainerId = "ticker",
                    Bundle = "/run/bundles/ticker",
                    OciSpec = ByteString.CopyFrom(OciSpecs.Container("ticker", "/bin/sh", "-c", "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done")),
                    Stdio = new Stdio { LogPath = "/pod/logs/ticker.log" },
                },
            }, cts.Token);
            await first.CallAsync(new Request { StartContainer = new StartContainer { ContainerId = "ticker" } }, cts.Token);
        }

        var linesWhileAway = File.Exists(log) ? File.ReadAllLines(log).Length : 0;
        await Task.Delay(2000, cts.Token);

        await using var second = await vm.ConnectAsync();
        var exec = await second.ExecAsync(new ExecProcess
        {
            ContainerId = "ticker",
            ExecId = "after-reconnect",
            OciProcess = ByteString.CopyFrom(OciSpecs.ExecProcess("/bin/echo", "still here")),
        }, cts.Token);
        var (stdout, _, exit) = await exec.CollectAsync(cts.Token);

        Assert.Equal("still here\n", stdout);
        Assert.Equal(0, exit.ExitCode);
        Assert.True(File.ReadAllLines(log).Length > linesWhileAway, "the container kept logging while no host was connected");

        await second.CallAsync(new Request { Shutdown = new Shutdown() }, cts.Token);
        Assert.Equal(0, await vm.WaitForExitAsync(TimeSpan.FromSeconds(60)));
    }
}
