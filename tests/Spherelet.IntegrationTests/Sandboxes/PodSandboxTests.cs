using Grpc.Core;
using Runtime.V1;

namespace Spherelet.IntegrationTests.Sandboxes;

/// <summary>
/// Pod sandboxes as real VMs of the default handler's backend (scripts/test runs them on the
/// microvm backend, then on libvirt), driven through CRI against the real daemon. Needs root,
/// libvirtd at qemu:///system and the built guest (scripts/setup). The tests of this
/// class run one after another: each boots real VMs (slow under TCG).
/// </summary>
public sealed class PodSandboxTests : IDisposable
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(120);
    private static readonly string[] ThreePods = ["one", "two", "three"];
    private readonly TestDirectory _dir = new();

    public void Dispose()
    {
        // Whatever a failed test left running is removed; a passing test leaves nothing.
        PodVms.RemoveAllAsync(_dir).GetAwaiter().GetResult();
        _dir.Dispose();
    }

    private string PodsDirectory => Path.Combine(_dir.Root, "pods");

    private string VmsDirectory => Path.Combine(_dir.State, "vm");

    [Fact]
    public async Task RunPodSandbox_boots_a_vm_and_reports_ready_then_stop_and_remove_leave_nothing()
    {
        using var daemon = DaemonProcess.Start(_dir, SandboxDaemon.Environment());
        using var client = await daemon.ConnectAsync();
        await SandboxDaemon.ListWhenRecoveredAsync(client, Recovery);

        var podLogs = Path.Combine(_dir.Path, "var-log-pods", "team-a_web_uid-web");
        var config = SandboxDaemon.Pod("web");
        config.LogDirectory = podLogs;
        var id = (await client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config })).PodSandboxId;
        // The pod share is the agent's tree bound read-only, nosuid, nodev; the kubelet's log
        // directory is made on the host and is nowhere in it (the agent writes container logs).
        var share = Path.Combine(PodsDirectory, id, "share");
        await File.WriteAllTextAsync(Path.Combine(podLogs, "probe.log"), "written by the kubelet's side\n");
        var shareMount = File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')).Single(f => f[4] == share);
        Assert.Equal(["ro", "nosuid", "nodev"], shareMount[5].Split(',').Intersect(["ro", "nosuid", "nodev"]));
        Assert.DoesNotContain(podLogs, await File.ReadAllTextAsync("/proc/self/mountinfo"), StringComparison.Ordinal);
        var listed = Assert.Single((await client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        var status = await client.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = id, Verbose = true });
        var vmName = System.Text.Json.JsonDocument.Parse(status.Info["info"]).RootElement.GetProperty("vmName").GetString()!;

        Assert.Equal(id, listed.Id);
        Assert.Equal(PodSandboxState.SandboxReady, listed.State);
        Assert.Equal("web", listed.Metadata.Name);
        Assert.Equal("web", listed.Labels["app"]);
        Assert.Equal(PodSandboxState.SandboxReady, status.Status.State);
        Assert.Contains("\"vmState\":\"running\"", status.Info["info"], StringComparison.Ordinal);
        Assert.Equal("running", await PodVms.StateAsync(_dir, vmName));
        Assert.True(File.Exists(Path.Combine(VmsDirectory, vmName, "crx.sock")), "the CRX channel socket");
        // The guest's own account (its serial console) of the hostname and DNS settings it applied.
        var console = await File.ReadAllTextAsync(Path.Combine(PodsDirectory, id, "console.log"));
        Assert.Contains("sandbox configured hostname=web nameservers=10.96.0.10 search=team-a.svc.cluster.local options=ndots:5 interfaces=0 routes=0 sysctls=1", console, StringComparison.Ordinal);
        Assert.DoesNotContain("mount of the 9p share", console, StringComparison.Ordinal); // the pod share is mounted

        var duplicate = await Assert.ThrowsAsync<RpcException>(() => client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = SandboxDaemon.Pod("web") }).ResponseAsync);
        Assert.Equal(StatusCode.AlreadyExists, duplicate.StatusCode);

        await client.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = id });
        await client.Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = id });
        var stopped = await client.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = id });
        Assert.Equal(PodSandboxState.SandboxNotready, stopped.Status.State);
        Assert.Equal("shut off", await PodVms.StateAsync(_dir, vmName));

        await client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id });
        await client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id });
        Assert.DoesNotContain(Path.Combine(PodsDirectory, id), await File.ReadAllTextAsync("/proc/self/mountinfo"), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(podLogs, "probe.log")), "removing the sandbox leaves the kubelet's logs alone");
        Assert.Null(await PodVms.StateAsync(_dir, vmName));
        Assert.Empty((await client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        Assert.Empty(Directory.EnumerateFileSystemEntries(PodsDirectory));
        Assert.Empty(Directory.EnumerateFileSystemEntries(VmsDirectory));
        var gone = await Assert.ThrowsAsync<RpcException>(() => client.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = id }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Bad_input_is_invalid_argument_and_changes_nothing()
    {
        using var daemon = DaemonProcess.Start(_dir, SandboxDaemon.Environment());
        using var client = await daemon.ConnectAsync();
        await SandboxDaemon.ListWhenRecoveredAsync(client, Recovery);
        var noMetadata = SandboxDaemon.Pod("a");
        noMetadata.Metadata = null;
        var longName = SandboxDaemon.Pod(new string('n', 254));
        var badDns = SandboxDaemon.Pod("b");
        badDns.DnsConfig.Options.Add("ndots 5");
        var badServer = SandboxDaemon.Pod("c");
        badServer.DnsConfig.Servers.Add("not-an-address");

        var failures = new List<RpcException>
        {
            await Assert.ThrowsAsync<RpcException>(() => client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = noMetadata }).ResponseAsync),
            await Assert.ThrowsAsync<RpcException>(() => client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = SandboxDaemon.Pod("d"), RuntimeHandler = "no-such-handler" }).ResponseAsync),
            await Assert.ThrowsAsync<RpcException>(() => client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = longName }).ResponseAsync),
            await Assert.ThrowsAsync<RpcException>(() => client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = badDns }).ResponseAsync),
            await Assert.ThrowsAsync<RpcException>(() => client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = badServer }).ResponseAsync),
        };

        Assert.All(failures, f => Assert.Equal(StatusCode.InvalidArgument, f.StatusCode));
        Assert.Contains("no-such-handler", failures[1].Status.Detail, StringComparison.Ordinal);
        Assert.Empty((await client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        Assert.Empty(await PodVms.OfAgentAsync(_dir));
        Assert.False(Directory.Exists(PodsDirectory) && Directory.EnumerateFileSystemEntries(PodsDirectory).Any());
    }

    [Fact]
    public async Task A_missing_guest_kernel_is_a_failed_precondition_that_names_the_fix_and_changes_nothing()
    {
        var environment = SandboxDaemon.Environment();
        environment["SPHERELET__GUEST__KERNELPATH"] = Path.Combine(_dir.Path, "no-such-vmlinuz");
        environment["SPHERELET__GUEST__PVHKERNELPATH"] = Path.Combine(_dir.Path, "no-such-vmlinuz");
        using var daemon = DaemonProcess.Start(_dir, environment);
        using var client = await daemon.ConnectAsync();
        await SandboxDaemon.ListWhenRecoveredAsync(client, Recovery);

        var failure = await Assert.ThrowsAsync<RpcException>(() => client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = SandboxDaemon.Pod("nokernel") }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, failure.StatusCode);
        Assert.Contains("no-such-vmlinuz", failure.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("scripts/setup", failure.Status.Detail, StringComparison.Ordinal);
        Assert.Empty((await client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        Assert.Empty(await PodVms.OfAgentAsync(_dir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(PodsDirectory));
        Assert.Empty(Directory.EnumerateFileSystemEntries(VmsDirectory));
    }

    [Fact]
    public async Task A_failure_in_the_middle_of_RunPodSandbox_undoes_every_step()
    {
        // The guest cannot answer within 50 ms, so the run fails after its VM was defined and started.
        using var daemon = DaemonProcess.Start(_dir, SandboxDaemon.Environment(connectTimeoutSeconds: 0.05));
        using var client = await daemon.ConnectAsync();
        await SandboxDaemon.ListWhenRecoveredAsync(client, Recovery);

        var failure = await Assert.ThrowsAsync<RpcException>(() => client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = SandboxDaemon.Pod("slow") }).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, failure.StatusCode);
        Assert.Contains("did not answer", failure.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("vm started", daemon.Output, StringComparison.Ordinal);
        Assert.Empty((await client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        Assert.Empty(await PodVms.OfAgentAsync(_dir));
        Assert.Empty(Directory.EnumerateFileSystemEntries(PodsDirectory));
        Assert.Empty(Directory.EnumerateFileSystemEntries(VmsDirectory));
    }

    [Fact]
    public async Task Pods_survive_an_agent_killed_with_sigkill_and_a_vm_destroyed_outside_turns_not_ready()
    {
        string[] ids;
        using (var first = DaemonProcess.Start(_dir, SandboxDaemon.Environment()))
        {
            using var client = await first.ConnectAsync();
            await SandboxDaemon.ListWhenRecoveredAsync(client, Recovery);
            ids = await Task.WhenAll(ThreePods.Select(async name =>
                (await client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = SandboxDaemon.Pod(name) })).PodSandboxId));
            first.Kill();
        }

        using var second = DaemonProcess.Start(_dir, SandboxDaemon.Environment());
        using var again = await second.ConnectAsync();
        var recovered = await SandboxDaemon.ListWhenRecoveredAsync(again, Recovery);

        Assert.Equal(ids.Order(), recovered.Items.Select(p => p.Id).Order());
        Assert.True(recovered.Items.All(p => p.State == PodSandboxState.SandboxReady), second.Output);
        Assert.Contains("guests_reconnected=3", second.Output, StringComparison.Ordinal);

        var status = await again.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = ids[0], Verbose = true });
        var vmName = System.Text.Json.JsonDocument.Parse(status.Info["info"]).RootElement.GetProperty("vmName").GetString()!;
        await PodVms.DestroyAsync(_dir, vmName);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        PodSandboxState state;
        do
        {
            await Task.Delay(100);
            state = (await again.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = ids[0] })).Status.State;
        }
        while (state == PodSandboxState.SandboxReady && DateTime.UtcNow < deadline);

        Assert.Equal(PodSandboxState.SandboxNotready, state);
        Assert.Equal(PodSandboxState.SandboxReady, (await again.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = ids[1] })).Status.State);

        foreach (var id in ids)
        {
            await again.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id });
        }

        Assert.Empty((await again.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        Assert.Empty(Directory.EnumerateFileSystemEntries(PodsDirectory));
    }
}
