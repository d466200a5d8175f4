using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Sandboxes;
using Spherelet.Tests.Sandboxes;

namespace Spherelet.Tests.Containers;

/// <summary>The container service's orchestration (names, rollback, state, exits, stop, recovery) with in-memory VMs and guests.</summary>
public sealed class ContainerServiceTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly string _root = Directory.CreateTempSubdirectory("sph-ctr-").FullName;
    private readonly FakeVmm _vmm = new();
    private readonly FakeVmm _fixedVmm = new("microvm", plugsNic: false, grows: false);
    private readonly FakeHostDevices _devices = new();
    private readonly FakeGuests _podGuests = new();
    private readonly FakeGuestContainers _guests = new();
    private readonly FakePodNetwork _network = new();
    private readonly MemoryCheckpointStore _sandboxCheckpoints = new();
    private readonly MemoryContainerCheckpointStore _checkpoints = new();
    private readonly List<ContainerService> _services = [];
    private SandboxService _sandboxes = null!;
    private ContainerService _containers = null!;
    private string _pod = string.Empty;
    private FakePodShares _shares = null!;

    public async Task InitializeAsync()
    {
        _shares = new FakePodShares(new SandboxLayout(Path.Combine(_root, "lib"), Path.Combine(_root, "run")));
        _podGuests.OnShutdown = id => _vmm.StopAsync("sph-" + id[..12], CancellationToken.None).GetAwaiter().GetResult();
        (_sandboxes, _containers) = await StartAgentAsync();
        _pod = await _sandboxes.RunAsync(
            new RunPodSandboxCommand { Metadata = new PodSandboxMetadata("web", "team-a", "uid-web", 0), LogDirectory = Path.Combine(_root, "logs") },
            CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        foreach (var service in _services)
        {
            await service.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }

    /// <summary>A new agent over the same checkpoints, VMs and guests (an agent restart), recovered.</summary>
    private async Task<(SandboxService, ContainerService)> StartAgentAsync()
    {
        var readiness = new RuntimeReadiness();
        var sandboxes = new SandboxService(
            new Spherelet.Domain.Vmm.VmmRegistry([_vmm, _fixedVmm]),
            new Spherelet.Domain.Vmm.GuestEndpoints(),
            _podGuests,
            _shares,
            _network,
            _sandboxCheckpoints,
            new RuntimeHandlerCatalog(
                [new RuntimeHandler("default", 1, 256, "/k", "/i", MaxVirtualCpus: 4, MaxMemoryMiB: 1024), new RuntimeHandler("hugepages", 1, 256, "/k", "/i", HugepagesMaxMiB: 64), new RuntimeHandler("fixed", 1, 256, "/k", "/i", MaxVirtualCpus: 4, MaxMemoryMiB: 1024, Vmm: "microvm")],
                "default"),
            new SandboxLayout(Path.Combine(_root, "lib"), Path.Combine(_root, "run")),
            readiness,
            new SandboxServiceOptions { ChannelName = "io.spherelet.crx.0", ShutdownGrace = TimeSpan.FromMilliseconds(100) },
            TimeProvider.System,
            NullLogger<SandboxService>.Instance);
        var containers = new ContainerService(
            sandboxes,
            _guests,
            _shares,
            _devices,
            new Spherelet.Agent.Containers.HostLogFiles(),
            _checkpoints,
            new ContainerServiceOptions { KillWait = TimeSpan.FromSeconds(2), WatchRetry = TimeSpan.FromMilliseconds(20), NodeStatsDeadline = TimeSpan.FromMilliseconds(300) },
            readiness,
            TimeProvider.System,
            NullLogger<ContainerService>.Instance);
        _services.Add(containers);
        await sandboxes.RecoverAsync(CancellationToken.None, containers.RecoverAsync);
        return (sandboxes, containers);
    }

    /// <summary>The pod lifecycle over the services of the agent now running.</summary>
    private Spherelet.Domain.Pods.PodLifecycle Pods => new(_sandboxes, _containers);

    private CreateContainerCommand Command(
        string name = "app", uint attempt = 0, IReadOnlyList<MountRequest>? mounts = null, string logPath = "app/0.log", string resources = "{}") => new()
    {
        SandboxId = _pod,
        Metadata = new ContainerMetadata(name, attempt),
        Image = new ContainerImage("registry.test/app:1", "sha256:" + new string('a', 64), "registry.test/app@sha256:" + new string('b', 64), ["/pod/layers/" + new string('c', 64)]),
        Labels = new Dictionary<string, string> { ["tier"] = "web" },
        LogPath = logPath,
        Mounts = mounts ?? [],
        BuildSpec = context => new ContainerSpec(
            Encoding.UTF8.GetBytes($"{{\"root\":{{\"path\":\"{context.RootfsPath}\"}},\"mounts\":[{string.Join(',', context.Mounts.Select(m => $"\"{m.GuestPath}\""))}]}}"),
            "{\"args\":[\"/bin/app\"],\"env\":[\"A=1\"],\"cwd\":\"/srv\",\"user\":{\"uid\":7,\"gid\":8}}",
            resources),
    };

    private async Task<string> RunningAsync(string name = "app")
    {
        var id = await _containers.CreateAsync(Command(name), CancellationToken.None);
        await _containers.StartAsync(id, CancellationToken.None);
        return id;
    }

    private static async Task<Container> WaitForStateAsync(ContainerService service, string id, ContainerState state)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            var container = service.Get(id);
            if (container.State == state || DateTime.UtcNow > deadline)
            {
                return container;
            }

            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Create_makes_a_created_container_in_the_guest_with_its_checkpoint()
    {
        var id = await _containers.CreateAsync(Command(), CancellationToken.None);

        var container = _containers.Get(id);
        var created = _guests.Containers[id].Create;
        Assert.Equal(64, id.Length);
        Assert.Equal(ContainerState.Created, container.State);
        Assert.Equal(4242, container.Pid);
        Assert.Equal(Path.Combine(_root, "logs", "app", "0.log"), container.HostLogPath);
        Assert.Equal(16L * 1024 * 1024, created.LogSpoolBytes);
        Assert.True(File.Exists(container.HostLogPath), "the host makes the log file at create");
        Assert.Equal($"/run/crx/bundles/{id}", created.Bundle);
        Assert.Contains($"/run/crx/bundles/{id}/rootfs", Encoding.UTF8.GetString(created.Spec.Span), StringComparison.Ordinal);
        Assert.Equal(["/pod/layers/" + new string('c', 64)], created.LayerDirectories);
        Assert.Equal(ContainerState.Created, _checkpoints.Saved[id].State);
        Assert.Equal($"container {id}", _containers.FindImageUser("sha256:" + new string('a', 64)));
    }

    [Fact]
    public async Task A_second_container_with_the_same_name_and_attempt_is_already_exists_and_the_next_attempt_is_not()
    {
        await _containers.CreateAsync(Command(), CancellationToken.None);

        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => _containers.CreateAsync(Command(), CancellationToken.None));
        Assert.Single(_guests.Containers);
        await _containers.CreateAsync(Command(attempt: 1), CancellationToken.None);
        Assert.Equal(2, _guests.Containers.Count);
    }

    [Fact]
    public async Task Host_path_mounts_are_bound_into_the_pod_share_read_only_or_recursively_read_only_where_asked()
    {
        var data = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        var file = Path.Combine(_root, "config.txt");
        await File.WriteAllTextAsync(file, "x");

        var id = await _containers.CreateAsync(
            Command(mounts:
            [
                new MountRequest("/data", data, false, MountPropagation.Private),
                new MountRequest("/etc/app.conf", file, true, MountPropagation.HostToContainer),
                new MountRequest("/tree", data, true, MountPropagation.Private, RecursiveReadOnly: true),
            ]),
            CancellationToken.None);

        string Volume(int index) => FakePodShares.Key(_pod, $"volumes/{id}/{index}");
        Assert.Equal(data, _shares.Bound[Volume(0)]);
        Assert.Equal(file, _shares.Bound[Volume(1)]);
        Assert.Contains(Volume(1), _shares.ReadOnly);
        Assert.DoesNotContain(Volume(0), _shares.ReadOnly);
        Assert.Equal([Volume(2)], _shares.RecursiveReadOnly);
        Assert.Equal([Volume(1)], _shares.FollowHost);
        Assert.Equal([$"/pod/volumes/{id}/0", $"/pod/volumes/{id}/1", $"/pod/volumes/{id}/2"], _containers.Get(id).Mounts.Select(m => m.GuestPath));
        Assert.Equal([false, false, true], _containers.Get(id).Mounts.Select(m => m.RecursiveReadOnly));

        await _containers.RemoveAsync(id, CancellationToken.None);
        Assert.DoesNotContain(_shares.Bound.Keys, k => k.Contains("volumes", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_container_has_the_layers_of_its_own_image_bound_into_its_pod_share_and_no_others()
    {
        Assert.DoesNotContain(_shares.Bound.Keys, k => k.Contains("layers", StringComparison.Ordinal));

        await _containers.CreateAsync(Command(), CancellationToken.None);

        Assert.Equal([FakePodShares.Key(_pod, "layers/" + new string('c', 64))], _shares.Bound.Keys.Where(k => k.Contains("layers", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_host_path_in_the_pods_directories_is_invalid_and_nothing_is_made_or_bound()
    {
        var inShare = Path.Combine(_root, "lib", "pods", _pod, "share", "volumes", "other", "0", "missing");

        var error = await Assert.ThrowsAsync<InvalidRequestException>(() =>
            _containers.CreateAsync(Command(mounts: [new MountRequest("/data", inShare, false, MountPropagation.Private)]), CancellationToken.None));

        Assert.Contains("pod directories", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.GetDirectoryName(inShare)), "nothing was made");
        Assert.DoesNotContain(_shares.Bound.Keys, k => k.Contains("volumes", StringComparison.Ordinal));
        Assert.Empty(_guests.Containers);
    }

    [Theory]
    [InlineData("/tmp", "data", MountPropagation.Private, "absolute")]
    [InlineData("/tmp", "/data/../etc", MountPropagation.Private, "'..'")]
    [InlineData("/tmp/../etc", "/data", MountPropagation.Private, "'..'")]
    [InlineData("/tmp", "/data", MountPropagation.Bidirectional, "bidirectional")]
    public async Task Bad_mounts_are_invalid_and_leave_nothing(string hostPath, string containerPath, MountPropagation propagation, string message)
    {
        var error = await Assert.ThrowsAsync<InvalidRequestException>(() =>
            _containers.CreateAsync(Command(mounts: [new MountRequest(containerPath, hostPath, false, propagation)]), CancellationToken.None));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Empty(_guests.Containers);
        Assert.Empty(_checkpoints.Saved);
        Assert.DoesNotContain(_shares.Bound.Keys, k => k.Contains("volumes", StringComparison.Ordinal));
        await _containers.CreateAsync(Command(), CancellationToken.None); // the name is free
    }

    [Theory]
    [InlineData("/var/log/app.log")]
    [InlineData("../other-pod/0.log")]
    [InlineData("app/./0.log")]
    public async Task A_log_path_that_leaves_the_pods_log_directory_is_invalid(string logPath)
    {
        await Assert.ThrowsAsync<InvalidRequestException>(() => _containers.CreateAsync(Command(logPath: logPath), CancellationToken.None));
        Assert.Empty(_guests.Containers);
    }

    [Fact]
    public async Task A_create_that_fails_in_the_guest_unbinds_the_mounts_and_frees_the_name()
    {
        var data = Directory.CreateDirectory(Path.Combine(_root, "data")).FullName;
        _guests.FailCreate = new InvalidRequestException("crun: executable file not found");

        await Assert.ThrowsAsync<InvalidRequestException>(() =>
            _containers.CreateAsync(Command(mounts: [new MountRequest("/data", data, false, MountPropagation.Private)]), CancellationToken.None));

        Assert.Empty(_checkpoints.Saved);
        Assert.DoesNotContain(_shares.Bound.Keys, k => k.Contains("volumes", StringComparison.Ordinal));
        _guests.FailCreate = null;
        await _containers.CreateAsync(Command(), CancellationToken.None);
    }

    [Fact]
    public async Task Container_cpusets_bind_the_pod_vm_to_their_union_and_need_a_pod_cgroup()
    {
        var refused = await Assert.ThrowsAsync<InvalidRequestException>(() =>
            _containers.CreateAsync(Command() with { HostCpuset = HostCpuset.Parse("2-3", string.Empty) }, CancellationToken.None));
        Assert.Contains("cgroup_parent", refused.Message, StringComparison.Ordinal);

        var pod = await _sandboxes.RunAsync(
            new RunPodSandboxCommand { Metadata = new PodSandboxMetadata("pinned", "team-a", "uid-pinned", 0), CgroupParent = "/kubepods/pod1", CpuShares = 2048, LogDirectory = Path.Combine(_root, "logs") },
            CancellationToken.None);
        var vm = _vmm.Vms["sph-" + pod[..12]];
        Assert.Equal(new Spherelet.Domain.Vmm.VmCgroup(Spherelet.Domain.Node.CgroupDriver.Cgroupfs, "/kubepods/pod1", 2048), vm.Spec!.Cgroup);

        await _containers.CreateAsync(Command("a") with { SandboxId = pod, HostCpuset = HostCpuset.Parse("2,3", "0") }, CancellationToken.None);
        var second = await _containers.CreateAsync(Command("b") with { SandboxId = pod, HostCpuset = HostCpuset.Parse("5", "0") }, CancellationToken.None);
        Assert.Equal(("2-3,5", "0"), (_vmm.Vms["sph-" + pod[..12]].Spec!.Cgroup!.CpusetCpus, _vmm.Vms["sph-" + pod[..12]].Spec!.Cgroup!.CpusetMems));
        Assert.Equal("5", _containers.Get(second).HostCpuset.Cpus);

        // A container that may run anywhere frees the VM.
        await _containers.UpdateResourcesAsync(second, "{}", HostCpuset.Any, CancellationToken.None);
        Assert.Equal(string.Empty, _vmm.Vms["sph-" + pod[..12]].Spec!.Cgroup!.CpusetCpus);
    }

    [Theory]
    [InlineData("0-3,6", "0-3,6")]
    [InlineData("3,1,2", "1-3")]
    [InlineData("", "")]
    public void A_cpuset_list_reads_and_writes_as_the_kernel_does(string list, string formatted) =>
        Assert.Equal(formatted, HostCpuset.Parse(list, string.Empty).Cpus);

    [Theory]
    [InlineData("a-b")]
    [InlineData("3-1")]
    [InlineData("1,,2")]
    public void A_bad_cpuset_list_is_invalid(string list) =>
        Assert.Throws<InvalidRequestException>(() => HostCpuset.Parse(list, string.Empty));

    [Fact]
    public async Task A_block_device_is_hot_plugged_once_per_pod_shared_by_its_containers_and_unplugged_with_the_last()
    {
        _devices.BlockDevices["/var/lib/kubelet/pods/u1/volumeDevices/kubernetes.io~csi/pv1"] = "/dev/loop7";
        var device = new DeviceRequest("/var/lib/kubelet/pods/u1/volumeDevices/kubernetes.io~csi/pv1", "/dev/xvda", "mrw");
        var vm = "sph-" + _pod[..12];

        var first = await _containers.CreateAsync(Command("a") with { Devices = [device] }, CancellationToken.None);
        var second = await _containers.CreateAsync(Command("b") with { Devices = [device with { ContainerPath = "/dev/data" }] }, CancellationToken.None);

        var disk = Assert.Single(_vmm.Disks[vm]);
        Assert.Equal(("/dev/loop7", "vdb", false), (disk.HostPath, disk.Target, disk.ReadOnly));
        Assert.True(disk.Serial.Length <= 20, "virtio-blk serials hold 20 characters");
        Assert.Equal(["/dev/loop7"], _containers.Get(first).BlockDevices);

        await _containers.RemoveAsync(first, CancellationToken.None);
        Assert.Single(_vmm.Disks[vm]);
        await _containers.RemoveAsync(second, CancellationToken.None);
        Assert.Empty(_vmm.Disks[vm]);
    }

    [Fact]
    public async Task A_create_that_fails_unplugs_the_block_device_it_plugged()
    {
        _devices.BlockDevices["/dev/loop7"] = "/dev/loop7";
        _guests.FailCreate = new InvalidRequestException("crun: executable file not found");

        await Assert.ThrowsAsync<InvalidRequestException>(() =>
            _containers.CreateAsync(Command() with { Devices = [new DeviceRequest("/dev/loop7", "/dev/xvda", "r")] }, CancellationToken.None));

        Assert.Empty(_vmm.Disks["sph-" + _pod[..12]]);
        Assert.Empty(_sandboxes.Get(_pod).Disks);
    }

    [Fact]
    public async Task A_device_that_is_neither_the_guests_nor_a_host_block_device_is_refused_and_nothing_is_plugged()
    {
        var error = await Assert.ThrowsAsync<InvalidRequestException>(() =>
            _containers.CreateAsync(Command() with { Devices = [new DeviceRequest("/dev/nvidia0", "/dev/nvidia0", "rw")] }, CancellationToken.None));

        Assert.Contains("/dev/nvidia0", error.Message, StringComparison.Ordinal);
        Assert.False(_vmm.Disks.TryGetValue("sph-" + _pod[..12], out var disks) && disks.Count > 0);
        Assert.Empty(_guests.Containers);
    }

    [Fact]
    public async Task Hugepages_of_the_pods_containers_are_given_to_its_vm_in_all_and_the_spec_told_how_many()
    {
        var pod = await _sandboxes.RunAsync(
            new RunPodSandboxCommand { Metadata = new PodSandboxMetadata("dpdk", "team-a", "uid-dpdk", 0), RuntimeHandler = "hugepages", LogDirectory = Path.Combine(_root, "logs") },
            CancellationToken.None);
        long pages = -1;
        CreateContainerCommand WithHugepages(string name, long bytes) => Command(name, resources: $"{{\"hugepageLimits\":[{{\"pageSize\":\"2MB\",\"limit\":{bytes}}}]}}") with
        {
            SandboxId = pod,
            Hugepages2MBBytes = bytes,
            BuildSpec = context =>
            {
                pages = context.PodHugepages2MB;
                return new ContainerSpec("{}"u8.ToArray(), "{\"args\":[\"/bin/app\"]}", $"{{\"hugepageLimits\":[{{\"pageSize\":\"2MB\",\"limit\":{bytes}}}]}}");
            },
        };

        await _containers.CreateAsync(WithHugepages("a", 8L << 20), CancellationToken.None);
        Assert.Equal((4L, 8), (pages, _vmm.HugepagesMiB["sph-" + pod[..12]]));

        await _containers.CreateAsync(WithHugepages("b", 6L << 20), CancellationToken.None);
        Assert.Equal((7L, 14), (pages, _vmm.HugepagesMiB["sph-" + pod[..12]]));
        Assert.Equal(14, _sandboxes.Get(pod).HugepagesMiB);

        // The default handler gives no hugepages: a clear refusal, nothing created.
        var refused = await Assert.ThrowsAsync<PreconditionFailedException>(() => _containers.CreateAsync(WithHugepages("c", 2L << 20) with { SandboxId = _pod }, CancellationToken.None));
        Assert.Contains("HugepagesMaxMiB", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_containers.List(ContainerFilter.All), c => c.Metadata.Name == "c");
    }

    [Fact]
    public async Task A_missing_host_path_is_made_as_a_directory_as_containerd_does()
    {
        var missing = Path.Combine(_root, "made", "by", "create");

        await _containers.CreateAsync(Command(mounts: [new MountRequest("/data", missing, false, MountPropagation.Private)]), CancellationToken.None);

        Assert.True(Directory.Exists(missing));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
            File.GetUnixFileMode(missing));
    }

    [Fact]
    public async Task A_create_that_fails_removes_the_host_path_directories_it_made()
    {
        var missing = Path.Combine(_root, "made", "by", "create");
        _guests.FailCreate = new InvalidRequestException("crun: executable file not found");

        await Assert.ThrowsAsync<InvalidRequestException>(() =>
            _containers.CreateAsync(Command(mounts: [new MountRequest("/data", missing, false, MountPropagation.Private)]), CancellationToken.None));

        Assert.False(Directory.Exists(Path.Combine(_root, "made")));
    }

    [Fact]
    public async Task A_container_cannot_be_created_in_a_pod_that_is_not_ready()
    {
        await Pods.StopAsync(_pod, CancellationToken.None);

        var error = await Assert.ThrowsAsync<PreconditionFailedException>(() => _containers.CreateAsync(Command(), CancellationToken.None));
        Assert.Contains("not ready", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, false, "Completed")]
    [InlineData(3, false, "Error")]
    [InlineData(137, true, "OOMKilled")]
    public async Task A_process_that_exits_is_recorded_with_its_exit_code_and_reason(int code, bool oom, string reason)
    {
        var id = await RunningAsync();
        Assert.Equal(ContainerState.Running, _containers.Get(id).State);

        _guests.Containers[id].Exit(code, oom ? 9 : 0, oom);
        var exited = await WaitForStateAsync(_containers, id, ContainerState.Exited);

        Assert.Equal(ContainerState.Exited, exited.State);
        Assert.Equal(code, exited.ExitCode);
        Assert.Equal(reason, exited.Reason);
        Assert.True(exited.FinishedAt > 0);
        Assert.Equal(ContainerState.Exited, _checkpoints.Saved[id].State);
    }

    [Fact]
    public async Task A_container_starts_only_once()
    {
        var id = await RunningAsync();

        await Assert.ThrowsAsync<PreconditionFailedException>(() => _containers.StartAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Stop_sends_the_stop_signal_then_kills_after_the_timeout()
    {
        var id = await RunningAsync();
        _guests.DeadlySignals.Remove(15); // the process ignores SIGTERM

        await _containers.StopAsync(id, TimeSpan.FromMilliseconds(200), CancellationToken.None);

        var stopped = _containers.Get(id);
        Assert.Equal([(id, 15), (id, 9)], _guests.Signals);
        Assert.Equal((ContainerState.Exited, 137, "Error"), (stopped.State, stopped.ExitCode, stopped.Reason));
        await _containers.StopAsync(id, TimeSpan.FromSeconds(1), CancellationToken.None); // an exited container: nothing to do
        Assert.Equal(2, _guests.Signals.Count);
    }

    [Fact]
    public async Task Stop_with_no_timeout_kills_at_once()
    {
        var id = await RunningAsync();

        await _containers.StopAsync(id, TimeSpan.Zero, CancellationToken.None);

        Assert.Equal([(id, 9)], _guests.Signals);
        Assert.Equal(137, _containers.Get(id).ExitCode);
    }

    [Fact]
    public async Task Stopping_a_container_or_pod_that_does_not_exist_succeeds_and_changes_nothing()
    {
        var id = await RunningAsync();

        await _containers.StopAsync("feedfacefeedface", TimeSpan.Zero, CancellationToken.None);
        await Pods.StopAsync("feedfacefeedface", CancellationToken.None);

        Assert.Empty(_guests.Signals);
        Assert.Equal(ContainerState.Running, _containers.Get(id).State);
    }

    [Fact]
    public async Task Remove_kills_deletes_and_forgets_and_is_idempotent()
    {
        var id = await RunningAsync();

        await _containers.RemoveAsync(id, CancellationToken.None);
        await _containers.RemoveAsync(id, CancellationToken.None);

        Assert.Empty(_guests.Containers);
        Assert.Empty(_checkpoints.Saved);
        Assert.Throws<ObjectNotFoundException>(() => _containers.Get(id));
        Assert.Null(_containers.FindImageUser("sha256:" + new string('a', 64)));
        await _containers.CreateAsync(Command(), CancellationToken.None); // the name is free again
    }

    [Fact]
    public async Task ExecSync_runs_the_command_as_the_containers_own_process_and_needs_it_running()
    {
        var created = await _containers.CreateAsync(Command("created"), CancellationToken.None);
        var id = await RunningAsync();
        _guests.OnExec = args => new ExecResult(Encoding.UTF8.GetBytes(string.Join(' ', args)), [], 5, false);

        var result = await _containers.ExecSyncAsync(id, ["echo", "hi"], TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.Equal("echo hi", Encoding.UTF8.GetString(result.Stdout));
        Assert.Equal(5, result.ExitCode);
        var process = System.Text.Json.JsonDocument.Parse(_guests.LastExecProcess!).RootElement;
        Assert.Equal("/srv", process.GetProperty("cwd").GetString());
        Assert.Equal("A=1", process.GetProperty("env")[0].GetString());
        Assert.Equal(7, process.GetProperty("user").GetProperty("uid").GetInt32());
        Assert.False(process.GetProperty("terminal").GetBoolean());
        await Assert.ThrowsAsync<PreconditionFailedException>(() => _containers.ExecSyncAsync(created, ["true"], TimeSpan.Zero, CancellationToken.None));
        await Assert.ThrowsAsync<InvalidRequestException>(() => _containers.ExecSyncAsync(id, [], TimeSpan.Zero, CancellationToken.None));
    }

    [Fact]
    public async Task A_streamed_exec_runs_as_the_containers_own_process_on_a_terminal_when_asked_and_needs_it_running()
    {
        var created = await _containers.CreateAsync(Command("created"), CancellationToken.None);
        var id = await RunningAsync();

        await using var session = await _containers.ExecAsync(id, ["sh"], tty: true, stdin: true, CancellationToken.None);
        await using var attached = await _containers.AttachAsync(id, CancellationToken.None);

        var process = System.Text.Json.JsonDocument.Parse(_guests.LastExecProcess!).RootElement;
        Assert.Equal("sh", process.GetProperty("args")[0].GetString());
        Assert.True(process.GetProperty("terminal").GetBoolean());
        Assert.Equal(7, process.GetProperty("user").GetProperty("uid").GetInt32());
        Assert.Equal([(id, true, true, false), (id, false, false, true)], _guests.Sessions);
        await Assert.ThrowsAsync<PreconditionFailedException>(() => _containers.ExecAsync(created, ["true"], false, false, CancellationToken.None));
        await Assert.ThrowsAsync<PreconditionFailedException>(() => _containers.AttachAsync(created, CancellationToken.None));
        await Assert.ThrowsAsync<InvalidRequestException>(() => _containers.ExecAsync(id, [], false, false, CancellationToken.None));
        Assert.Throws<ObjectNotFoundException>(() => _containers.StreamableContainer("f00d", "exec in"));
    }

    [Fact]
    public async Task ExecSync_past_its_timeout_is_deadline_exceeded()
    {
        var id = await RunningAsync();
        _guests.OnExec = _ => new ExecResult([], [], 137, TimedOut: true);

        var error = await Assert.ThrowsAsync<DeadlineExceededException>(() => _containers.ExecSyncAsync(id, ["sleep", "100"], TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Contains("did not finish within 1 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateResources_applies_and_keeps_the_new_limits_only_while_the_container_can_run()
    {
        var id = await RunningAsync();

        await _containers.UpdateResourcesAsync(id, "{\"memory\":{\"limit\":2000}}", HostCpuset.Any, CancellationToken.None);
        Assert.Equal("{\"memory\":{\"limit\":2000}}", _guests.Containers[id].Resources);
        Assert.Equal("{\"memory\":{\"limit\":2000}}", _containers.Get(id).ResourcesJson);

        await _containers.StopAsync(id, TimeSpan.Zero, CancellationToken.None);
        await Assert.ThrowsAsync<PreconditionFailedException>(() => _containers.UpdateResourcesAsync(id, "{}", HostCpuset.Any, CancellationToken.None));
    }

    [Fact]
    public async Task Limits_that_no_longer_fit_grow_the_pod_vm_within_its_maximum()
    {
        var vm = _sandboxes.Get(_pod).VmName;
        var id = await RunningAsync();
        Assert.Equal((1, 256), (_sandboxes.Get(_pod).VirtualCpus, _sandboxes.Get(_pod).MemoryMiB));

        // 2.5 CPUs and 300 MiB: 3 vCPUs, and the profile's 256 MiB plus 300.
        await _containers.UpdateResourcesAsync(id, "{\"cpu\":{\"quota\":250000,\"period\":100000},\"memory\":{\"limit\":314572800}}", HostCpuset.Any, CancellationToken.None);

        var grown = _sandboxes.Get(_pod);
        Assert.Equal((3, 556), (grown.VirtualCpus, grown.MemoryMiB));
        Assert.Equal((3, 556L), (_vmm.Vms[vm].Status.VirtualCpus, _vmm.Vms[vm].Status.MemoryMiB));
        Assert.Equal(3, _guests.OnlineCpus);
        Assert.Equal((3, 556), (_sandboxCheckpoints.Saved[_pod].VirtualCpus, _sandboxCheckpoints.Saved[_pod].MemoryMiB));

        // A second container's limits add up; smaller limits never shrink the VM.
        var second = await _containers.CreateAsync(Command("second", resources: "{\"memory\":{\"limit\":104857600}}"), CancellationToken.None);
        Assert.Equal(656, _sandboxes.Get(_pod).MemoryMiB);
        await _containers.UpdateResourcesAsync(id, "{\"memory\":{\"limit\":1048576}}", HostCpuset.Any, CancellationToken.None);
        Assert.Equal((3, 656), (_sandboxes.Get(_pod).VirtualCpus, _sandboxes.Get(_pod).MemoryMiB));

        // Beyond the handler's maximum (4 vCPUs, 1024 MiB): refused, nothing changes.
        var error = await Assert.ThrowsAsync<PreconditionFailedException>(() =>
            _containers.UpdateResourcesAsync(second, "{\"cpu\":{\"quota\":800000,\"period\":100000}}", HostCpuset.Any, CancellationToken.None));
        Assert.Contains("beyond its VM's maximum of 4 vCPUs and 1024 MiB", error.Message, StringComparison.Ordinal);
        Assert.Equal("{\"memory\":{\"limit\":104857600}}", _containers.Get(second).ResourcesJson);
        Assert.Equal(3, _vmm.Vms[vm].Status.VirtualCpus);
    }

    [Fact]
    public async Task Two_event_subscribers_each_see_a_containers_created_started_stopped_and_deleted_in_order_with_its_pod()
    {
        var events = new Spherelet.Domain.Events.PodEvents(_sandboxes, _containers, TimeProvider.System, NullLogger<Spherelet.Domain.Events.PodEvents>.Instance);
        using var first = events.Subscribe();
        using var second = events.Subscribe();

        var id = await RunningAsync();
        await _containers.StopAsync(id, TimeSpan.Zero, CancellationToken.None);
        await _containers.RemoveAsync(id, CancellationToken.None);

        foreach (var subscription in new[] { first, second })
        {
            var seen = new List<Spherelet.Domain.Events.PodEvent>();
            while (subscription.Reader.TryRead(out var podEvent))
            {
                seen.Add(podEvent);
            }

            var ofContainer = seen.Where(e => e.Id == id).ToList();
            Assert.Equal(
                [Spherelet.Domain.Events.PodEventType.Created, Spherelet.Domain.Events.PodEventType.Started, Spherelet.Domain.Events.PodEventType.Stopped, Spherelet.Domain.Events.PodEventType.Deleted],
                ofContainer.Select(e => e.Type));
            Assert.All(ofContainer, e => Assert.Equal(_pod, e.Sandbox.Id));
            Assert.Equal(ContainerState.Created, Assert.Single(ofContainer[0].Containers, c => c.Id == id).State);
            Assert.Equal(ContainerState.Running, Assert.Single(ofContainer[1].Containers, c => c.Id == id).State);
            Assert.Equal(ContainerState.Exited, Assert.Single(ofContainer[2].Containers, c => c.Id == id).State);
            Assert.DoesNotContain(ofContainer[3].Containers, c => c.Id == id);
            Assert.True(ofContainer.Zip(ofContainer.Skip(1)).All(p => p.First.CreatedAt <= p.Second.CreatedAt));
        }
    }

    [Fact]
    public async Task A_pods_sandbox_events_carry_its_id_from_ready_to_removed()
    {
        var events = new Spherelet.Domain.Events.PodEvents(_sandboxes, _containers, TimeProvider.System, NullLogger<Spherelet.Domain.Events.PodEvents>.Instance);
        using var subscription = events.Subscribe();

        var pod = await _sandboxes.RunAsync(
            new RunPodSandboxCommand { Metadata = new PodSandboxMetadata("evented", "team-a", "uid-evented", 0), LogDirectory = Path.Combine(_root, "logs-evented") },
            CancellationToken.None);
        await Pods.RemoveAsync(pod, CancellationToken.None);

        var seen = new List<Spherelet.Domain.Events.PodEvent>();
        while (subscription.Reader.TryRead(out var podEvent))
        {
            seen.Add(podEvent);
        }

        Assert.Equal(
            [Spherelet.Domain.Events.PodEventType.Created, Spherelet.Domain.Events.PodEventType.Started, Spherelet.Domain.Events.PodEventType.Stopped, Spherelet.Domain.Events.PodEventType.Deleted],
            seen.Where(e => e.Id == pod).Select(e => e.Type));
        Assert.Equal(SandboxState.Ready, seen.First(e => e.Id == pod).Sandbox.State);
        Assert.Equal(SandboxState.NotReady, seen.Last(e => e.Id == pod).Sandbox.State);
        Assert.Equal("uid-evented", seen.Last(e => e.Id == pod).Sandbox.Metadata.Uid);
    }

    [Fact]
    public async Task A_subscriber_that_never_reads_is_dropped_once_it_is_full_and_holds_up_neither_the_runtime_nor_other_subscribers()
    {
        var events = new Spherelet.Domain.Events.PodEvents(_sandboxes, _containers, TimeProvider.System, NullLogger<Spherelet.Domain.Events.PodEvents>.Instance);
        using var idle = events.Subscribe(capacity: 2);
        using var reader = events.Subscribe();

        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await _containers.CreateAsync(Command("c" + i), CancellationToken.None));
        }

        Assert.Equal(1, events.Subscribers);
        await Assert.ThrowsAsync<SubscriberTooSlowException>(async () =>
        {
            await foreach (var unused in idle.Reader.ReadAllAsync())
            {
            }
        });
        var seen = new List<string>();
        while (reader.Reader.TryRead(out var podEvent))
        {
            seen.Add(podEvent.Id);
        }

        Assert.Equal(ids, seen);
    }

    [Fact]
    public async Task Limits_in_a_vm_whose_backend_cannot_grow_cap_within_it_and_a_limit_beyond_it_is_refused()
    {
        var pod = await _sandboxes.RunAsync(
            new RunPodSandboxCommand { Metadata = new PodSandboxMetadata("fixed", "team-a", "uid-fixed", 0), RuntimeHandler = "fixed", LogDirectory = Path.Combine(_root, "logs-fixed") },
            CancellationToken.None);
        var vm = _sandboxes.Get(pod).VmName;
        Assert.Equal((1, 256), (_sandboxes.Get(pod).MaxVirtualCpus, _sandboxes.Get(pod).MaxMemoryMiB));

        // 2 CPUs and 200 MiB, then another 200 MiB: admitted, the VM keeps its size.
        var first = await _containers.CreateAsync(
            Command("a", resources: "{\"cpu\":{\"quota\":200000,\"period\":100000},\"memory\":{\"limit\":209715200}}") with { SandboxId = pod }, CancellationToken.None);
        await _containers.CreateAsync(Command("b", resources: "{\"memory\":{\"limit\":209715200}}") with { SandboxId = pod }, CancellationToken.None);
        Assert.Equal((1, 256), (_sandboxes.Get(pod).VirtualCpus, _sandboxes.Get(pod).MemoryMiB));
        Assert.Equal((1, 256L), (_fixedVmm.Vms[vm].Status.VirtualCpus, _fixedVmm.Vms[vm].Status.MemoryMiB));
        Assert.Equal("{\"cpu\":{\"quota\":200000,\"period\":100000},\"memory\":{\"limit\":209715200}}", _containers.Get(first).ResourcesJson);

        // One limit beyond the whole VM: refused, nothing is made.
        var error = await Assert.ThrowsAsync<PreconditionFailedException>(() => _containers.CreateAsync(
            Command("c", resources: "{\"memory\":{\"limit\":314572800}}") with { SandboxId = pod }, CancellationToken.None));
        Assert.Contains("300 MiB is beyond its pod VM's 256 MiB", error.Message, StringComparison.Ordinal);
        Assert.Contains("microvm backend cannot grow it", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, _containers.List(new ContainerFilter(null, pod, null, null)).Count);
        Assert.Equal((1, 256L), (_fixedVmm.Vms[vm].Status.VirtualCpus, _fixedVmm.Vms[vm].Status.MemoryMiB));
    }

    [Fact]
    public async Task The_host_writes_the_log_file_from_the_guests_entries_and_acknowledges_what_it_wrote()
    {
        var id = await RunningAsync();
        var path = _containers.Get(id).HostLogPath;

        var entries = _guests.Containers[id].Log.Push(false, "first", "second");

        var lines = await LinesAsync(path, 2);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout F first$", lines[0]);
        Assert.EndsWith(" stdout F second", lines[1], StringComparison.Ordinal);
        Assert.Equal(CriLogFormat.Timestamp(entries[0].TimeUnixNanos), lines[0].Split(' ')[0]);
        await WaitUntilAsync(() => _guests.Containers[id].Log.Acknowledged == entries[^1].Sequence);
    }

    [Fact]
    public async Task Entries_the_guest_sends_again_after_an_agent_restart_are_written_once()
    {
        var id = await RunningAsync();
        var log = _guests.Containers[id].Log;
        var path = _containers.Get(id).HostLogPath;
        var first = log.Push(false, "one", "two");
        await LinesAsync(path, 2);

        // A new agent: the guest streams what it was never told was written, then goes on.
        var (_, restarted) = await StartAgentAsync();
        log.Replay(first);
        log.Push(false, "three");

        var lines = await LinesAsync(path, 3);
        Assert.Equal(["one", "two", "three"], lines.Select(l => l.Split(' ', 4)[3]));
        Assert.Equal(2, log.Follows);
        Assert.Equal(ContainerState.Running, restarted.Get(id).State);
    }

    [Fact]
    public async Task A_log_path_that_is_a_link_is_refused_and_reopen_follows_a_rotation()
    {
        var id = await RunningAsync();
        var path = _containers.Get(id).HostLogPath;
        _guests.Containers[id].Log.Push(false, "before");
        await LinesAsync(path, 1);
        File.Move(path, path + ".1");

        await _containers.ReopenLogAsync(id, CancellationToken.None);
        _guests.Containers[id].Log.Push(false, "after");

        Assert.EndsWith(" after", Assert.Single(await LinesAsync(path, 1)), StringComparison.Ordinal);
        Assert.EndsWith(" before", Assert.Single(File.ReadAllLines(path + ".1")), StringComparison.Ordinal);
        var created = await _containers.CreateAsync(Command("created"), CancellationToken.None);
        await Assert.ThrowsAsync<PreconditionFailedException>(() => _containers.ReopenLogAsync(created, CancellationToken.None));

        // A link where the log file goes (nothing in a pod VM can make one now, but the host never follows one).
        var linked = Directory.CreateDirectory(Path.Combine(_root, "logs", "linked")).FullName;
        File.CreateSymbolicLink(Path.Combine(linked, "0.log"), Path.Combine(_root, "target"));
        var error = await Assert.ThrowsAsync<PreconditionFailedException>(() => _containers.CreateAsync(Command("linked", logPath: "linked/0.log"), CancellationToken.None));
        Assert.Contains("is a link", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "target")), "nothing was made through the link");
        Assert.DoesNotContain(_checkpoints.Saved.Values, c => c.Metadata.Name == "linked");
    }

    [Fact]
    public async Task A_pod_whose_guest_fails_or_does_not_answer_statistics_is_left_out_of_node_statistics_within_the_deadline()
    {
        var id = await RunningAsync();
        Assert.NotNull(await _containers.PodUsageOrNoneAsync(_pod, [id], CancellationToken.None));

        _guests.OnStats = _ => throw new GuestOperationFailedException("the guest's statistics name container 'x' twice");
        Assert.Null(await _containers.PodUsageOrNoneAsync(_pod, [id], CancellationToken.None));
        await Assert.ThrowsAsync<GuestOperationFailedException>(() => _containers.PodUsageAsync(_pod, [id], CancellationToken.None));

        _guests.OnStats = token => Task.Delay(Timeout.Infinite, token);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        Assert.Null(await _containers.PodUsageOrNoneAsync(_pod, [id], CancellationToken.None));
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < Patience, "left out after the deadline, not held");
    }

    private static async Task<string[]> LinesAsync(string path, int count)
    {
        await WaitUntilAsync(() => File.Exists(path) && File.ReadAllLines(path).Length >= count);
        return File.ReadAllLines(path);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Stopping_the_pod_kills_its_containers_first_and_records_their_exits()
    {
        var id = await RunningAsync();

        await Pods.StopAsync(_pod, CancellationToken.None);

        var stopped = _containers.Get(id);
        Assert.Equal((ContainerState.Exited, 137), (stopped.State, stopped.ExitCode));
        Assert.Equal(SandboxState.NotReady, _sandboxes.Get(_pod).State);
    }

    [Fact]
    public async Task A_pod_vm_that_stops_on_its_own_ends_its_running_containers()
    {
        var id = await RunningAsync();
        var created = await _containers.CreateAsync(Command("created"), CancellationToken.None);

        await _sandboxes.OnVmStoppedAsync(new Spherelet.Domain.Vmm.VmStopped(_sandboxes.Get(_pod).VmName, "destroyed"));
        var gone = await WaitForStateAsync(_containers, id, ContainerState.Exited);

        Assert.Equal((ContainerState.Exited, 255, "Error"), (gone.State, gone.ExitCode, gone.Reason));
        Assert.Contains("pod VM stopped", gone.Message, StringComparison.Ordinal);
        Assert.Equal(ContainerState.Created, _containers.Get(created).State);
    }

    [Fact]
    public async Task Removing_the_pod_removes_its_containers()
    {
        await RunningAsync();
        await _containers.CreateAsync(Command("created"), CancellationToken.None);

        await Pods.RemoveAsync(_pod, CancellationToken.None);

        Assert.Empty(_containers.List(ContainerFilter.All));
        Assert.Empty(_checkpoints.Saved);
        Assert.Empty(_sandboxes.List(SandboxFilter.All));
        await Pods.RemoveAsync(_pod, CancellationToken.None); // an unknown pod: nothing to do
    }

    [Fact]
    public async Task After_an_agent_restart_containers_are_as_they_were_and_one_that_exited_meanwhile_has_its_real_exit_code()
    {
        var running = await RunningAsync("running");
        var exited = await RunningAsync("exited");
        var exitsWhileDown = await RunningAsync("exits-while-down");
        _guests.Containers[exited].Exit(3);
        await WaitForStateAsync(_containers, exited, ContainerState.Exited);
        await _containers.DisposeAsync(); // the agent stops: its watchers end, nothing is recorded

        _guests.Containers[exitsWhileDown].Exit(7);
        Assert.Equal(ContainerState.Running, _checkpoints.Saved[exitsWhileDown].State);
        var (_, after) = await StartAgentAsync();

        Assert.Equal(ContainerState.Running, after.Get(running).State);
        Assert.Equal((ContainerState.Exited, 3), (after.Get(exited).State, after.Get(exited).ExitCode));
        var recorded = await WaitForStateAsync(after, exitsWhileDown, ContainerState.Exited);
        Assert.Equal((ContainerState.Exited, 7, "Error"), (recorded.State, recorded.ExitCode, recorded.Reason));
        await Assert.ThrowsAsync<ObjectAlreadyExistsException>(() => after.CreateAsync(Command("running"), CancellationToken.None));
    }

    [Fact]
    public async Task Requests_before_recovery_has_finished_are_unavailable()
    {
        var readiness = new RuntimeReadiness();
        var sandboxes = new SandboxService(
            new Spherelet.Domain.Vmm.VmmRegistry([_vmm, _fixedVmm]),
            new Spherelet.Domain.Vmm.GuestEndpoints(), _podGuests, _shares, _network, _sandboxCheckpoints, new RuntimeHandlerCatalog([new RuntimeHandler("default", 1, 256, "/k", "/i")], "default"),
            new SandboxLayout(Path.Combine(_root, "lib"), Path.Combine(_root, "run")), readiness, new SandboxServiceOptions { ChannelName = "c" },
            TimeProvider.System, NullLogger<SandboxService>.Instance);
        var containers = new ContainerService(sandboxes, _guests, _shares, _devices, new Spherelet.Agent.Containers.HostLogFiles(), _checkpoints, new ContainerServiceOptions(), readiness, TimeProvider.System, NullLogger<ContainerService>.Instance);
        _services.Add(containers);

        Assert.Throws<RuntimeNotReadyException>(() => containers.List(ContainerFilter.All));
        await Assert.ThrowsAsync<RuntimeNotReadyException>(() => containers.CreateAsync(Command(), CancellationToken.None));
    }
}
