using System.Globalization;
using Grpc.Core;
using Runtime.V1;
using Spherelet.IntegrationTests.Containers;
using Spherelet.IntegrationTests.Sandboxes;
using Spherelet.Testing.Kubelet;

namespace Spherelet.IntegrationTests.Kubelet;

/// <summary>
/// Pods driven the way a kubelet of the 1.32 line drives a runtime (requests from
/// <see cref="KubeletRequests"/>, the node's files and pod cgroups made first as the kubelet makes
/// them): each starts, its containers log, answer exec probes and stop, and the host sees its VM
/// under the pod's cgroup. Needs root, libvirtd (cgroup_controllers = [ ], as scripts/setup sets),
/// the built guest and docker-registry. One pod VM per test.
/// </summary>
[Collection(ContainerPod.Collection)]
public sealed class KubeletPodTests : IClassFixture<KubeletNode>
{
    private readonly KubeletNode _node;

    public KubeletPodTests(KubeletNode node)
    {
        _node = node;
    }

    [Fact]
    public async Task A_burstable_web_pod_starts_with_every_kind_of_volume_answers_its_probe_and_runs_under_its_pod_cgroup()
    {
        var pod = KubeletPods.BurstableWeb(_node.Image, _node.KubeletRoot, _node.PodLogsRoot, Path.Combine(_node.Dir.Path, "node-data"));
        var web = pod.Containers[0];
        var podId = await _node.RunPodAsync(pod);
        try
        {
            // The VM's QEMU is under the pod's cgroup in every hierarchy, with the pod's CPU requests as its weight.
            var (vmName, pid) = await _node.VmOfAsync(podId);
            var leaf = $"{pod.CgroupParent}/spherelet-{vmName}";
            var cgroups = PodCgroups.Of(pid);
            Assert.All(cgroups, c => Assert.Equal(leaf, c.Value));
            Assert.Equal("102", File.ReadAllText($"/sys/fs/cgroup/cpu{leaf}/cpu.shares").Trim());
            Assert.All(Directory.GetDirectories($"/proc/{pid}/task"), task => Assert.Contains($":{leaf}\n", File.ReadAllText(Path.Combine(task, "cgroup")), StringComparison.Ordinal));

            var id = await _node.StartContainerAsync(pod, web, podId);
            var stdout = await KubeletNode.StdoutAsync(pod, web, "hello from a configmap");
            Assert.Equal(["web up", "hello from a configmap"], stdout.Take(2));

            // The exec probe (ExecSync with a timeout) and what the kubelet's mounts and devices give the container.
            var probe = await _node.Runtime.ExecSyncAsync(KubeletRequests.ExecProbe(id, ["sh", "-c", "cat /etc/podinfo/labels /etc/creds/password /var/run/secrets/kubernetes.io/serviceaccount/namespace; grep -c web /etc/hosts; ls -l /dev/fuse"]));
            Assert.Equal(0, probe.ExitCode);
            var lines = probe.Stdout.ToStringUtf8().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["app=\"web\"", "s3cret", "shop", "1"], lines.Take(4));
            Assert.StartsWith("crw", lines[4], StringComparison.Ordinal);
            Assert.Contains("10,", lines[4], StringComparison.Ordinal);
            Assert.Contains("229", lines[4], StringComparison.Ordinal);
            var readOnly = await _node.Runtime.ExecSyncAsync(KubeletRequests.ExecProbe(id, ["sh", "-c", "touch /config/x || echo configmap read-only; touch /cache/x /node-data/x && echo writable"]));
            Assert.Contains("configmap read-only", readOnly.Stdout.ToStringUtf8(), StringComparison.Ordinal);
            Assert.Contains("writable", readOnly.Stdout.ToStringUtf8(), StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(pod.Volumes[5].Path, "x")), "the missing hostPath was made on the node and the container wrote into it");
            Assert.Equal("bye\n", await File.ReadAllTextAsync(KubeletRequests.TerminationLogPath(pod, web)));

            // The status reports the image as the pod named it.
            var status = (await _node.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id })).Status;
            Assert.Equal(_node.Image, status.Image.UserSpecifiedImage);
            Assert.Equal(_node.ImageId, status.Image.Image);

            // A container asking for hugepages of a size pod VMs do not get is refused clearly, and the pod goes on.
            var hungry = KubeletRequests.CreateContainer(pod, web with { Name = "hungry" }, podId, _node.ImageId);
            hungry.Config.Linux.Resources.HugepageLimits.Add(new HugepageLimit { PageSize = "1GB", Limit = 1UL << 30 });
            Assert.Equal(StatusCode.FailedPrecondition, await KubeletNode.CodeOfAsync(() => _node.Runtime.CreateContainerAsync(hungry).ResponseAsync));

            await _node.KillAndRemovePodAsync(podId, [id]);
            Assert.False(Directory.Exists($"/sys/fs/cgroup/cpu{leaf}"), "the VM's cgroup is gone with the pod");
            Assert.False(Directory.Exists($"/sys/fs/cgroup/unified{leaf}"), "the VM's cgroup is gone with the pod");
        }
        finally
        {
            await RemoveQuietlyAsync(podId);
            PodCgroups.Remove(pod.CgroupParent);
        }
    }

    [Fact]
    public async Task A_guaranteed_pod_runs_its_init_container_then_its_sidecar_and_a_restricted_app()
    {
        // The static CPU manager gives each container of a Guaranteed pod CPUs of the host: CPU 1 here.
        var guaranteed = KubeletPods.GuaranteedWithInitAndSidecar(_node.Image, _node.KubeletRoot, _node.PodLogsRoot);
        var pod = guaranteed with
        {
            CgroupV2 = false,
            InitContainers = [.. guaranteed.InitContainers.Select(c => c with { CpusetCpus = "1" })],
            Containers = [.. guaranteed.Containers.Select(c => c with { CpusetCpus = "1" })],
        };
        var (prepare, proxy, app) = (pod.InitContainers[0], pod.InitContainers[1], pod.Containers[0]);
        var podId = await _node.RunPodAsync(pod);
        try
        {
            var (vmName, pid) = await _node.VmOfAsync(podId);
            var leaf = $"{pod.CgroupParent}/spherelet-{vmName}";
            Assert.StartsWith("/kubepods/pod", pod.CgroupParent, StringComparison.Ordinal);
            Assert.Equal(leaf, PodCgroups.Of(pid)["cpu"]);
            // The pod's CPU requests (1250m) and its overhead (250m) as shares.
            Assert.Equal(((1250 + 250) * 1024 / 1000).ToString(CultureInfo.InvariantCulture), File.ReadAllText($"/sys/fs/cgroup/cpu{leaf}/cpu.shares").Trim());

            // Init container to completion, then the sidecar, then the app.
            var init = await _node.StartContainerAsync(pod, prepare, podId);
            var exited = await _node.WaitUntilExitedAsync(init);
            Assert.Equal((ContainerState.ContainerExited, 0, "Completed"), (exited.State, exited.ExitCode, exited.Reason));
            Assert.Equal(["init done"], await KubeletNode.StdoutAsync(pod, prepare, "init done"));
            var sidecar = await _node.StartContainerAsync(pod, proxy, podId);
            await KubeletNode.StdoutAsync(pod, proxy, "sidecar up");
            var main = await _node.StartContainerAsync(pod, app, podId);
            Assert.Equal(["prepared", "1000"], await KubeletNode.StdoutAsync(pod, app, "1000"));
            Assert.Equal("1", File.ReadAllText($"/sys/fs/cgroup/cpuset{leaf}/cpuset.cpus").Trim());
            var status = (await _node.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = main })).Status;
            Assert.Equal("1", status.Resources.Linux.CpusetCpus);

            // Restricted: not root, no capabilities, no new privileges.
            var probe = await _node.Runtime.ExecSyncAsync(KubeletRequests.ExecProbe(main, ["sh", "-c", "id -u; id -G; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status"]));
            Assert.Equal(0, probe.ExitCode);
            var lines = probe.Stdout.ToStringUtf8().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("1000", lines[0]);
            Assert.Contains("2000", lines[1].Split(' '));
            Assert.Equal("CapEff:\t0000000000000000", lines[2]);
            Assert.Equal("NoNewPrivs:\t1", lines[3]);

            // The kubelet removes an exited init container before the pod goes.
            await _node.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = init });
            await _node.KillAndRemovePodAsync(podId, [main, sidecar]);
            Assert.False(Directory.Exists($"/sys/fs/cgroup/cpu{leaf}"), "the VM's cgroup is gone with the pod");
        }
        finally
        {
            await RemoveQuietlyAsync(podId);
            PodCgroups.Remove(pod.CgroupParent);
        }
    }

    [Fact]
    public async Task A_pod_with_a_raw_block_volume_reads_and_writes_the_host_device_at_its_device_path()
    {
        var image = Path.Combine(_node.Dir.Path, "volume.img");
        await using (var file = File.Create(image))
        {
            file.SetLength(16 << 20);
            await file.WriteAsync("written on the host\n"u8.ToArray());
        }

        var loop = (await Losetup.RunAsync("--find", "--show", image)).Trim();
        var pod = new KubePod("shop", "db", "7c6b5a49-3827-4165-9483-7261504f3e2d")
        {
            KubeletRoot = _node.KubeletRoot,
            PodLogsRoot = _node.PodLogsRoot,
            // Block devices are hot-plugged while the pod runs: the libvirt handler's VMs take them, a microvm cannot.
            RuntimeHandler = "libvirt",
            Volumes = [new KubeVolume("data", KubeVolumeKind.BlockDevice) { Path = loop }],
            Containers =
            [
                new KubeContainer("db", _node.Image)
                {
                    Command = ["sh", "-c", "ls -l /dev/xvda; head -c 20 /dev/xvda; printf 'written in the pod' | dd of=/dev/xvda bs=512 seek=8 2>/dev/null && echo done; while true; do sleep 1; done"],
                    VolumeDevices = new Dictionary<string, string> { ["data"] = "/dev/xvda" },
                },
            ],
        };
        string? podId = null;
        try
        {
            podId = await _node.RunPodAsync(pod);
            var vmName = await AssertUnderPodCgroupAsync(pod, podId);
            var id = await _node.StartContainerAsync(pod, pod.Containers[0], podId);

            var stdout = await KubeletNode.StdoutAsync(pod, pod.Containers[0], "done");
            Assert.StartsWith("brw", stdout[0], StringComparison.Ordinal);
            Assert.Equal("written on the host", stdout[1]);
            Assert.Equal("done", stdout[^1]);
            Assert.Contains(loop, (await Virsh.RunAsync("domblklist", vmName)).Output, StringComparison.Ordinal);
            var probe = await _node.Runtime.ExecSyncAsync(KubeletRequests.ExecProbe(id, ["head", "-c", "19", "/dev/xvda"]));
            Assert.Equal((0, "written on the host"), (probe.ExitCode, probe.Stdout.ToStringUtf8()));

            // The container goes, the disk leaves the VM; then the host sees what the pod wrote.
            await _node.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 2 });
            await _node.Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id });
            Assert.DoesNotContain(loop, (await Virsh.RunAsync("domblklist", vmName)).Output, StringComparison.Ordinal);
            await _node.KillAndRemovePodAsync(podId, []);
        }
        finally
        {
            if (podId is not null)
            {
                await RemoveQuietlyAsync(podId);
            }

            await Losetup.RunAsync("--detach", loop);
            PodCgroups.Remove(pod.CgroupParent);
        }

        var written = new byte[18];
        await using (var file = File.OpenRead(image))
        {
            file.Position = 4096;
            await file.ReadExactlyAsync(written);
        }

        Assert.Equal("written in the pod", System.Text.Encoding.ASCII.GetString(written));
    }

    [Fact]
    public async Task A_pod_asking_for_2MiB_hugepages_gets_them_from_host_hugepages_within_its_limit()
    {
        var freeBefore = long.Parse(File.ReadAllText("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages").Trim(), CultureInfo.InvariantCulture);
        Assert.True(freeBefore >= 8, "the host needs free 2 MiB hugepages (scripts/test reserves them)");
        var pod = new KubePod("shop", "dpdk", "3e2d1c0b-9a8f-4765-8432-1f0e9d8c7b6a")
        {
            RuntimeHandler = "hugepages",
            KubeletRoot = _node.KubeletRoot,
            PodLogsRoot = _node.PodLogsRoot,
            Containers =
            [
                new KubeContainer("dpdk", _node.Image)
                {
                    Command = ["sh", "-c", "grep HugePages_Total /proc/meminfo; cat /sys/fs/cgroup/hugetlb.2MB.max; while true; do sleep 1; done"],
                    CpuLimitMillis = 500,
                    MemoryLimitBytes = 64L << 20,
                    Hugepages2MiBytes = 8L << 20,
                },
            ],
        };
        var podId = await _node.RunPodAsync(pod);
        try
        {
            await AssertUnderPodCgroupAsync(pod, podId);
            var id = await _node.StartContainerAsync(pod, pod.Containers[0], podId);

            var stdout = await KubeletNode.StdoutAsync(pod, pod.Containers[0], "8388608");
            var probe = await _node.Runtime.ExecSyncAsync(KubeletRequests.ExecProbe(id, ["grep", "HugePages_Total", "/proc/meminfo"]));
            Assert.Equal(0, probe.ExitCode);
            Assert.Equal(["HugePages_Total:       4", "8388608"], stdout);
            var freeNow = long.Parse(File.ReadAllText("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages").Trim(), CultureInfo.InvariantCulture);
            Assert.True(freeBefore - freeNow >= 4, $"the VM's hugepages come from the host's: {freeBefore} free before, {freeNow} now");

            await _node.KillAndRemovePodAsync(podId, [id]);
        }
        finally
        {
            await RemoveQuietlyAsync(podId);
            PodCgroups.Remove(pod.CgroupParent);
        }
    }

    [Fact]
    public async Task A_pod_on_the_host_network_is_refused_before_any_vm_boots()
    {
        var pod = new KubePod("shop", "hostnet", "5d1e4c3b-2a19-4087-9f6e-5d4c3b2a1908")
        {
            KubeletRoot = _node.KubeletRoot,
            PodLogsRoot = _node.PodLogsRoot,
            HostNetwork = true,
            Containers = [new KubeContainer("agent", _node.Image) { Command = ["sleep", "3600"] }],
        };
        var before = await PodVms.OfAgentAsync(_node.Dir);

        var error = await Assert.ThrowsAsync<RpcException>(() => _node.RunPodAsync(pod));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("hostNetwork", error.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, await PodVms.OfAgentAsync(_node.Dir));
        Assert.Empty((await _node.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest { Filter = new PodSandboxFilter { LabelSelector = { ["io.kubernetes.pod.name"] = "hostnet" } } })).Items);
        PodCgroups.Remove(pod.CgroupParent);
    }

    /// <summary>Asserts that the pod VM's QEMU runs in its leaf under the pod's cgroup in every hierarchy; returns the VM's name.</summary>
    private async Task<string> AssertUnderPodCgroupAsync(KubePod pod, string podId)
    {
        var (vmName, pid) = await _node.VmOfAsync(podId);
        Assert.All(PodCgroups.Of(pid), c => Assert.Equal($"{pod.CgroupParent}/spherelet-{vmName}", c.Value));
        return vmName;
    }

    private async Task RemoveQuietlyAsync(string podId)
    {
        try
        {
            await _node.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId }, deadline: DateTime.UtcNow.AddMinutes(2));
        }
        catch (RpcException)
        {
            // Already gone, or the daemon is: the fixture removes the VMs it left.
        }
    }
}
