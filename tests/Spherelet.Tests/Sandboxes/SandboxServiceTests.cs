using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Vmm;

namespace Spherelet.Tests.Sandboxes;

/// <summary>The sandbox service's orchestration (names, rollback, state, recovery) with an in-memory VMM and guests.</summary>
public sealed class SandboxServiceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sph-sbx-").FullName;
    private readonly FakeVmm _vmm = new();
    private readonly FakeVmm _microvm = new("microvm", plugsNic: false) { IdMap = new VmIdMap(3_000_000_000, 65536) };
    private readonly FakeGuests _guests = new();
    private readonly FakePodNetwork _network = new();
    private readonly MemoryCheckpointStore _checkpoints = new();
    private readonly RuntimeReadiness _readiness = new();

    private readonly FakePodShares _shares;
    private GuestEndpoints _endpoints = new();

    public SandboxServiceTests()
    {
        _shares = new FakePodShares(Layout);
        // A guest asked to power off stops its VM.
        _guests.OnShutdown = id => _vmm.StopAsync("sph-" + id[..12], CancellationToken.None).GetAwaiter().GetResult();
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private SandboxLayout Layout => new(Path.Combine(_root, "lib"), Path.Combine(_root, "run"));

    private SandboxService NewService() => new(
        new VmmRegistry([_vmm, _microvm]),
        _endpoints = new GuestEndpoints(),
        _guests,
        _shares,
        _network,
        _checkpoints,
        new RuntimeHandlerCatalog(
            [
                new RuntimeHandler("default", 1, 256, "/k", "/i"),
                new RuntimeHandler("big", 4, 1024, "/k", "/i"),
                new RuntimeHandler("fast", 1, 256, "/pvh", "/i", Vmm: "microvm"),
            ],
            "default"),
        Layout,
        _readiness,
        new SandboxServiceOptions { ChannelName = "io.spherelet.crx.0" },
        TimeProvider.System,
        NullLogger<SandboxService>.Instance);

    private static RunPodSandboxCommand Pod(string name = "web", uint attempt = 0) => new()
    {
        Metadata = new PodSandboxMetadata(name, "team-a", "uid-" + name, attempt),
        Hostname = name,
        Labels = new Dictionary<string, string> { ["app"] = name },
        Dns = new DnsSettings(["10.96.0.10"], ["team-a.svc.cluster.local"], ["ndots:5"]),
        Sysctls = new Dictionary<string, string> { ["net.ipv4.ip_unprivileged_port_start"] = "0" },
    };

    private async Task<SandboxService> ReadyServiceAsync()
    {
        var service = NewService();
        await service.RecoverAsync(CancellationToken.None);
        return service;
    }

    [Fact]
    public async Task The_guest_endpoint_the_backend_gave_is_registered_by_sandbox_id_checkpointed_found_again_after_a_restart_and_forgotten_on_remove()
    {
        var service = await ReadyServiceAsync();
        var id = await service.RunAsync(Pod(), CancellationToken.None);
        var expected = new GuestEndpoint(Layout.ChannelSocket("sph-" + id[..12]));

        Assert.Equal(expected, _endpoints.Get(id));
        Assert.Equal(expected, _checkpoints.Saved[id].GuestEndpoint);

        // An agent restart: a new registry, filled from the checkpoint; an older checkpoint without one gets the VM's run directory.
        var older = await service.RunAsync(Pod("older"), CancellationToken.None);
        _checkpoints.Saved[older] = _checkpoints.Saved[older] with { GuestEndpoint = null };
        await ReadyServiceAsync();
        Assert.Equal(expected, _endpoints.Get(id));
        Assert.Equal(new GuestEndpoint(Layout.ChannelSocket("sph-" + older[..12])), _endpoints.Get(older));

        var restarted = await ReadyServiceAsync();
        await restarted.RemoveAsync(id, CancellationToken.None);
        Assert.Throws<GuestUnavailableException>(() => _endpoints.Get(id));
    }

    [Fact]
    public async Task Requests_before_recovery_has_finished_are_unavailable()
    {
        var service = NewService();

        await Assert.ThrowsAsync<RuntimeNotReadyException>(() => service.RunAsync(Pod(), CancellationToken.None));
        Assert.Throws<RuntimeNotReadyException>(() => service.List(SandboxFilter.All));
    }

    [Fact]
    public async Task Run_boots_a_vm_configures_the_guest_and_checkpoints_a_ready_sandbox()
    {
        var service = await ReadyServiceAsync();

        var id = await service.RunAsync(Pod() with { CpuMillis = 2500, MemoryLimitBytes = 128L * 1024 * 1024 }, CancellationToken.None);

        var sandbox = Assert.Single(service.List(SandboxFilter.All));
        Assert.Equal(id, sandbox.Id);
        Assert.Equal(SandboxState.Ready, sandbox.State);
        Assert.Equal(64, id.Length);
        var vm = _vmm.Vms[sandbox.VmName].Spec!;
        Assert.Equal("sph-" + id[..12], vm.Name);
        Assert.Equal(3, vm.VirtualCpus);
        Assert.Equal(256 + 128, vm.MemoryMiB);
        Assert.Contains("random.trust_cpu=on", vm.KernelCommandLine, StringComparison.Ordinal);
        Assert.Equal("web", _guests.Connected[id]!.Hostname);
        Assert.Equal(["10.96.0.10"], _guests.Connected[id]!.Dns.Servers);
        Assert.Equal("0", _guests.Connected[id]!.Sysctls["net.ipv4.ip_unprivileged_port_start"]);
        Assert.Equal(SandboxState.Ready, _checkpoints.Saved[id].State);
        Assert.True(Directory.Exists(Layout.Share(id)));
    }

    [Fact]
    public async Task With_a_pod_cidr_the_vm_gets_a_nic_on_its_segment_the_guest_its_address_and_removal_detaches_it()
    {
        _network.HasPodCidr = true;
        var service = await ReadyServiceAsync();

        var id = await service.RunAsync(Pod(), CancellationToken.None);

        var attachment = _network.Attached[id];
        var nic = _vmm.Vms["sph-" + id[..12]].Spec!.Nic!;
        Assert.Equal((attachment.Bridge, attachment.PortName, attachment.Mac, attachment.Vlan), (nic.Bridge, nic.PortName, nic.Mac, nic.Vlan));
        Assert.Equal(attachment, _guests.Connected[id]!.Network);
        Assert.Equal(attachment, service.Get(id).Network);
        Assert.Equal("web", _network.Labelled[id].Name);
        Assert.Equal(attachment, _network.Secured[id]);

        await service.RemoveAsync(id, CancellationToken.None);
        Assert.Empty(_network.Attached);
    }

    [Fact]
    public async Task A_handler_of_another_backend_runs_its_pods_there_records_it_and_stops_and_removes_them_there()
    {
        _network.HasPodCidr = true;
        var service = await ReadyServiceAsync();

        var fast = await service.RunAsync(Pod("fast") with { RuntimeHandler = "fast" }, CancellationToken.None);
        var plain = await service.RunAsync(Pod("plain"), CancellationToken.None);

        Assert.Equal("microvm", service.Get(fast).Vmm);
        Assert.Equal("microvm", _checkpoints.Saved[fast].Vmm);
        // The ids the backend reserved map the pod's share and reach the VM's spec and the checkpoint; libvirt maps none.
        Assert.Equal(_microvm.IdMap, _shares.IdMaps[fast]);
        Assert.Equal(_microvm.IdMap, _microvm.Vms["sph-" + fast[..12]].Spec!.IdMap);
        Assert.Equal(_microvm.IdMap, _checkpoints.Saved[fast].IdMap);
        Assert.False(_shares.IdMaps.ContainsKey(plain));
        Assert.Equal("libvirt", service.Get(plain).Vmm);
        Assert.Equal("/pvh", _microvm.Vms["sph-" + fast[..12]].Spec!.KernelPath);
        Assert.False(_vmm.Vms.ContainsKey("sph-" + fast[..12]));
        Assert.False(_microvm.Vms.ContainsKey("sph-" + plain[..12]));
        // The microvm backend leaves its tap to the network room; libvirt plugs its own.
        Assert.Equal(_network.Attached[fast], _network.Plugged[fast]);
        Assert.False(_network.Plugged.ContainsKey(plain));
        Assert.Equal("microvm", (await service.StatusAsync(fast, CancellationToken.None)).VmmName);

        await service.StopAsync(fast, CancellationToken.None);
        Assert.Equal(VmState.Stopped, _microvm.Vms["sph-" + fast[..12]].Status.State);
        Assert.Equal(VmState.Running, _vmm.Vms["sph-" + plain[..12]].Status.State);
        await service.RemoveAsync(fast, CancellationToken.None);
        Assert.Empty(_microvm.Vms);
        Assert.Single(_vmm.Vms);
    }

    [Fact]
    public async Task Recovery_asks_every_backend_and_destroys_each_ones_leftovers_there()
    {
        var service = await ReadyServiceAsync();
        var fast = await service.RunAsync(Pod("fast") with { RuntimeHandler = "fast" }, CancellationToken.None);
        var owner = new VmOwner("f".PadRight(64, 'f'), "team-a", "gone", "uid-gone", 0);
        await _microvm.StartAsync(new VmSpec
        {
            Name = "sph-ffffffffffff", Uuid = Guid.NewGuid(), Owner = owner, VirtualCpus = 1, MemoryMiB = 256, KernelPath = "/pvh", InitramfsPath = "/i",
            KernelCommandLine = string.Empty, ShareDirectory = "/s", ShareTag = "pod", ChannelSocketPath = "/c", ChannelName = "c", ConsoleLogPath = "/l",
        }, null, CancellationToken.None);

        var restarted = NewService();
        await restarted.RecoverAsync(CancellationToken.None);

        Assert.False(_microvm.Vms.ContainsKey("sph-ffffffffffff"));
        Assert.True(_microvm.Vms.ContainsKey("sph-" + fast[..12]));
        Assert.Equal(_microvm.IdMap, _shares.IdMaps[fast]);
        Assert.Equal(SandboxState.Ready, restarted.Get(fast).State);
    }

    [Fact]
    public async Task A_failed_run_on_a_backend_that_reserved_ids_releases_them()
    {
        var service = await ReadyServiceAsync();
        _microvm.FailStart = new Spherelet.Domain.Errors.VmmOperationFailedException("qemu died");

        await Assert.ThrowsAsync<Spherelet.Domain.Errors.VmmOperationFailedException>(() => service.RunAsync(Pod("fast") with { RuntimeHandler = "fast" }, CancellationToken.None));

        Assert.Empty(_microvm.Reserved);
        Assert.Empty(service.List(SandboxFilter.All));
    }

    [Fact]
    public async Task A_run_that_fails_after_the_pod_was_attached_detaches_it()
    {
        _network.HasPodCidr = true;
        var service = await ReadyServiceAsync();
        _vmm.FailStart = new Spherelet.Domain.Errors.VmmOperationFailedException("qemu died");

        await Assert.ThrowsAsync<Spherelet.Domain.Errors.VmmOperationFailedException>(() => service.RunAsync(Pod(), CancellationToken.None));

        Assert.Empty(_network.Attached);
        Assert.Empty(service.List(SandboxFilter.All));
    }

    [Fact]
    public async Task The_kubelets_log_directory_is_made_on_the_host_never_bound_into_the_pod_share_and_left_at_removal()
    {
        var service = await ReadyServiceAsync();
        var logs = Path.Combine(_root, "var-log-pods", "team-a_web_uid-web");

        var id = await service.RunAsync(Pod() with { LogDirectory = logs }, CancellationToken.None);
        Assert.True(Directory.Exists(logs));
        Assert.Empty(_shares.Bound);
        Assert.Contains(id, _shares.Created);

        await service.RemoveAsync(id, CancellationToken.None);
        Assert.Empty(_shares.Created);
        Assert.True(Directory.Exists(logs), "the kubelet's directory is left alone");
    }

    [Fact]
    public async Task A_failed_run_removes_the_pod_share_and_leaves_the_log_directory()
    {
        var service = await ReadyServiceAsync();
        _guests.Unreachable = true;

        await Assert.ThrowsAsync<GuestUnavailableException>(() => service.RunAsync(Pod() with { LogDirectory = Path.Combine(_root, "logs") }, CancellationToken.None));

        Assert.Empty(_shares.Bound);
        Assert.Empty(_shares.Created);
        Assert.True(Directory.Exists(Path.Combine(_root, "logs")));
    }

    [Fact]
    public async Task A_second_run_with_the_same_metadata_is_already_exists_while_the_first_exists()
    {
        var service = await ReadyServiceAsync();
        var first = await service.RunAsync(Pod(), CancellationToken.None);

        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => service.RunAsync(Pod(), CancellationToken.None));
        await service.RemoveAsync(first, CancellationToken.None);
        var again = await service.RunAsync(Pod(), CancellationToken.None);

        Assert.NotEqual(first, again);
    }

    [Fact]
    public async Task A_guest_that_never_answers_undoes_the_run_and_leaves_nothing()
    {
        var service = await ReadyServiceAsync();
        _guests.Unreachable = true;

        await Assert.ThrowsAsync<GuestUnavailableException>(() => service.RunAsync(Pod(), CancellationToken.None));

        Assert.Empty(_vmm.Vms);
        Assert.Empty(_checkpoints.Saved);
        Assert.Empty(service.List(SandboxFilter.All));
        Assert.Empty(Directory.EnumerateDirectories(Layout.PodsDirectory));
        Assert.Empty(Directory.EnumerateDirectories(Layout.VmsDirectory));
        _guests.Unreachable = false;
        await service.RunAsync(Pod(), CancellationToken.None); // the name was released
    }

    [Fact]
    public async Task Bad_input_is_invalid_argument_and_creates_nothing()
    {
        var service = await ReadyServiceAsync();

        await Assert.ThrowsAsync<InvalidRequestException>(() => service.RunAsync(Pod() with { Metadata = null }, CancellationToken.None));
        await Assert.ThrowsAsync<InvalidRequestException>(() => service.RunAsync(Pod() with { RuntimeHandler = "nope" }, CancellationToken.None));
        await Assert.ThrowsAsync<InvalidRequestException>(() => service.RunAsync(Pod(new string('a', 254)), CancellationToken.None));
        await Assert.ThrowsAsync<InvalidRequestException>(() => service.RunAsync(
            Pod() with { Dns = new DnsSettings(["not-an-ip"], [], []) }, CancellationToken.None));
        await Assert.ThrowsAsync<InvalidRequestException>(() => service.RunAsync(
            Pod() with { Dns = new DnsSettings([], [], ["ndots 5"]) }, CancellationToken.None));
        await Assert.ThrowsAsync<InvalidRequestException>(() => service.RunAsync(
            Pod() with { Sysctls = new Dictionary<string, string> { ["../../etc/passwd"] = "x" } }, CancellationToken.None));

        Assert.Empty(_vmm.Vms);
        Assert.False(Directory.Exists(Layout.PodsDirectory) && Directory.EnumerateDirectories(Layout.PodsDirectory).Any());
    }

    [Fact]
    public async Task Runtime_handler_profile_sizes_the_vm()
    {
        var service = await ReadyServiceAsync();

        var id = await service.RunAsync(Pod() with { RuntimeHandler = "big" }, CancellationToken.None);

        var sandbox = service.List(SandboxFilter.All).Single(s => s.Id == id);
        Assert.Equal("big", sandbox.RuntimeHandler);
        Assert.Equal(4, _vmm.Vms[sandbox.VmName].Spec!.VirtualCpus);
        Assert.Equal(1024, _vmm.Vms[sandbox.VmName].Spec!.MemoryMiB);
    }

    [Fact]
    public async Task Stop_and_remove_are_idempotent_and_remove_leaves_nothing()
    {
        var service = await ReadyServiceAsync();
        var id = await service.RunAsync(Pod(), CancellationToken.None);

        await service.StopAsync(id, CancellationToken.None);
        await service.StopAsync(id, CancellationToken.None);
        var stopped = (await service.StatusAsync(id, CancellationToken.None)).Sandbox;
        await service.RemoveAsync(id, CancellationToken.None);
        await service.RemoveAsync(id, CancellationToken.None);

        Assert.Equal(SandboxState.NotReady, stopped.State);
        Assert.Equal("stopped", stopped.StateReason);
        Assert.Equal([id], _guests.ShutdownRequests);
        Assert.Empty(_vmm.Vms);
        Assert.Empty(_checkpoints.Saved);
        Assert.False(Directory.Exists(Layout.PodDirectory(id)));
        await service.StopAsync(id, CancellationToken.None); // gone: stopping it again still succeeds
        await service.StopAsync("0123456789abcdef", CancellationToken.None); // never existed
    }

    [Fact]
    public async Task Removing_a_ready_sandbox_stops_it_first()
    {
        var service = await ReadyServiceAsync();
        var id = await service.RunAsync(Pod(), CancellationToken.None);

        await service.RemoveAsync(id, CancellationToken.None);

        Assert.Equal([id], _guests.ShutdownRequests);
        Assert.Empty(_vmm.Vms);
        Assert.Empty(_guests.Connected);
    }

    [Fact]
    public async Task A_vm_destroyed_outside_spherelet_turns_its_sandbox_not_ready()
    {
        var service = await ReadyServiceAsync();
        using var watch = _vmm.WatchStops(stopped => service.OnVmStoppedAsync(stopped).GetAwaiter().GetResult());
        var id = await service.RunAsync(Pod(), CancellationToken.None);

        _vmm.DestroyOutside("sph-" + id[..12]);

        var sandbox = (await service.StatusAsync(id, CancellationToken.None)).Sandbox;
        Assert.Equal(SandboxState.NotReady, sandbox.State);
        Assert.Equal("vm stopped: destroyed", sandbox.StateReason);
        Assert.Equal(SandboxState.NotReady, _checkpoints.Saved[id].State);
    }

    [Fact]
    public async Task List_filters_by_id_prefix_state_and_labels()
    {
        var service = await ReadyServiceAsync();
        var a = await service.RunAsync(Pod("a"), CancellationToken.None);
        var b = await service.RunAsync(Pod("b"), CancellationToken.None);
        await service.StopAsync(b, CancellationToken.None);

        Assert.Equal([a], service.List(new SandboxFilter(a[..8], null, null)).Select(s => s.Id));
        Assert.Equal([b], service.List(new SandboxFilter(null, SandboxState.NotReady, null)).Select(s => s.Id));
        Assert.Equal([a], service.List(new SandboxFilter(null, null, new Dictionary<string, string> { ["app"] = "a" })).Select(s => s.Id));
        Assert.Empty(service.List(new SandboxFilter(null, SandboxState.Ready, new Dictionary<string, string> { ["app"] = "b" })));
        Assert.Equal(a, (await service.StatusAsync(a[..10], CancellationToken.None)).Sandbox.Id);
    }

    [Fact]
    public async Task Recovery_destroys_leftover_vms_marks_sandboxes_without_a_vm_not_ready_and_keeps_the_rest()
    {
        var before = await ReadyServiceAsync();
        var kept = await before.RunAsync(Pod("kept"), CancellationToken.None);
        var lost = await before.RunAsync(Pod("lost"), CancellationToken.None);
        await _vmm.DeleteAsync("sph-" + lost[..12], CancellationToken.None);
        _vmm.Vms["sph-ffffffffffff"] = (null, new VmStatus("sph-ffffffffffff", Guid.NewGuid(), VmState.Running, 1, 256, TimeSpan.Zero, new VmOwner(new string('f', 64), "x", "y", "z", 0)));
        Directory.CreateDirectory(Path.Combine(Layout.PodsDirectory, "orphan"));
        _guests.Connected.Clear();

        var after = NewService();
        await after.RecoverAsync(CancellationToken.None);

        Assert.False(_vmm.Vms.ContainsKey("sph-ffffffffffff"));
        Assert.Equal(SandboxState.Ready, (await after.StatusAsync(kept, CancellationToken.None)).Sandbox.State);
        Assert.True(_guests.Connected.ContainsKey(kept), "reconnected to the running guest");
        var lostStatus = (await after.StatusAsync(lost, CancellationToken.None)).Sandbox;
        Assert.Equal(SandboxState.NotReady, lostStatus.State);
        Assert.Contains("vm gone", lostStatus.StateReason, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Layout.PodsDirectory, "orphan")));
        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => after.RunAsync(Pod("kept"), CancellationToken.None));
    }
}
