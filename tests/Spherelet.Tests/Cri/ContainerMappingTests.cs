using Runtime.V1;
using Spherelet.Cri;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Errors;
using DomainContainer = Spherelet.Domain.Containers.Container;

namespace Spherelet.Tests.Cri;

/// <summary>CRI container messages from and to the domain's containers.</summary>
public sealed class ContainerMappingTests
{
    private static DomainContainer Sample() => new()
    {
        Id = "c1",
        SandboxId = "p1",
        Metadata = new Spherelet.Domain.Containers.ContainerMetadata("app", 1),
        Image = new ContainerImage("registry.test/app:1", "sha256:aa", "registry.test/app@sha256:bb", ["/layers/cc"]),
        Labels = new Dictionary<string, string> { ["tier"] = "web" },
        Annotations = new Dictionary<string, string>(),
        LogPath = "app/1.log",
        HostLogPath = "/logs/app/1.log",
        Tty = false,
        Stdin = false,
        StdinOnce = false,
        Mounts = [new ContainerMount("/data", "/srv/data", true, Spherelet.Domain.Containers.MountPropagation.HostToContainer, "/pod/volumes/c1/0")],
        StopSignal = 15,
        ProcessJson = "{\"user\":{\"uid\":1000,\"gid\":2000,\"additionalGids\":[2000,3000]}}",
        HostCpuset = new HostCpuset("0", string.Empty),
        ResourcesJson = "{\"cpu\":{\"shares\":512,\"quota\":50000,\"period\":100000},\"memory\":{\"limit\":33554432},\"unified\":{\"memory.high\":\"max\"}}",
        State = Spherelet.Domain.Containers.ContainerState.Exited,
        CreatedAt = 10,
        StartedAt = 20,
        FinishedAt = 30,
        ExitCode = 137,
        Reason = DomainContainer.Reasons.OomKilled,
        Message = "killed by signal 9",
    };

    [Fact]
    public void Status_carries_state_exit_image_user_resources_mounts_and_the_host_log_path()
    {
        var status = ContainerMapping.ToStatus(Sample());

        Assert.Equal((Runtime.V1.ContainerState.ContainerExited, 137, "OOMKilled"), (status.State, status.ExitCode, status.Reason));
        Assert.Equal((10L, 20L, 30L), (status.CreatedAt, status.StartedAt, status.FinishedAt));
        Assert.Equal(("registry.test/app:1", "registry.test/app@sha256:bb", "sha256:aa"), (status.Image.Image, status.ImageRef, status.ImageId));
        Assert.Equal("/logs/app/1.log", status.LogPath);
        Assert.Equal((1000L, 2000L), (status.User.Linux.Uid, status.User.Linux.Gid));
        Assert.Equal([2000L, 3000L], status.User.Linux.SupplementalGroups);
        Assert.Equal((512L, 50000L, 100000L, "0", 33554432L), (status.Resources.Linux.CpuShares, status.Resources.Linux.CpuQuota, status.Resources.Linux.CpuPeriod, status.Resources.Linux.CpusetCpus, status.Resources.Linux.MemoryLimitInBytes));
        Assert.Equal("max", status.Resources.Linux.Unified["memory.high"]);
        var mount = Assert.Single(status.Mounts);
        Assert.Equal(("/data", "/srv/data", true, Runtime.V1.MountPropagation.PropagationHostToContainer), (mount.ContainerPath, mount.HostPath, mount.Readonly, mount.Propagation));
        Assert.Equal(Signal.Sigterm, status.StopSignal);
        Assert.Equal("web", status.Labels["tier"]);
    }

    [Fact]
    public void Filters_map_each_condition()
    {
        var filter = ContainerMapping.ToFilter(new Runtime.V1.ContainerFilter
        {
            Id = "c",
            PodSandboxId = "p",
            State = new ContainerStateValue { State = Runtime.V1.ContainerState.ContainerRunning },
            LabelSelector = { ["tier"] = "web" },
        });

        Assert.Equal(("c", "p", Spherelet.Domain.Containers.ContainerState.Running), (filter.Id, filter.SandboxId, filter.State));
        Assert.False(filter.Matches(Sample()));
        Assert.True(filter with { State = Spherelet.Domain.Containers.ContainerState.Exited } is var exited && exited.Matches(Sample()));
        Assert.Same(Spherelet.Domain.Containers.ContainerFilter.All, ContainerMapping.ToFilter((Runtime.V1.ContainerFilter?)null));
    }

    [Fact]
    public void Stats_report_cpu_memory_and_the_writable_layer()
    {
        var stats = ContainerMapping.ToStats(Sample(), new ResourceUsage(5000, 3000, 2000, 4, 99, 8192, 3));

        Assert.Equal(5000UL, stats.Cpu.UsageCoreNanoSeconds.Value);
        Assert.Equal((2000UL, 3000UL), (stats.Memory.WorkingSetBytes.Value, stats.Memory.UsageBytes.Value));
        Assert.Equal((8192UL, 3UL), (stats.WritableLayer.UsedBytes.Value, stats.WritableLayer.InodesUsed.Value));
        Assert.Equal(99, stats.Cpu.Timestamp);
        Assert.Equal("c1", stats.Attributes.Id);
    }

    [Fact]
    public void Image_volumes_and_id_mapped_mounts_are_refused()
    {
        Assert.Throws<InvalidRequestException>(() => ContainerMapping.ToMountRequests([new Mount { ContainerPath = "/a", Image = new ImageSpec { Image = "x" } }]));
        Assert.Throws<InvalidRequestException>(() => ContainerMapping.ToMountRequests([new Mount { ContainerPath = "/a", HostPath = "/b", UidMappings = { new IDMapping() } }]));
    }

    [Fact]
    public void Recursive_read_only_mounts_are_taken_when_read_only_and_private_and_refused_otherwise()
    {
        var taken = Assert.Single(ContainerMapping.ToMountRequests([new Mount { ContainerPath = "/a", HostPath = "/b", Readonly = true, RecursiveReadOnly = true }]));
        var writable = Assert.Throws<InvalidRequestException>(() => ContainerMapping.ToMountRequests([new Mount { ContainerPath = "/a", HostPath = "/b", RecursiveReadOnly = true }]));
        var following = Assert.Throws<InvalidRequestException>(() => ContainerMapping.ToMountRequests(
            [new Mount { ContainerPath = "/a", HostPath = "/b", Readonly = true, RecursiveReadOnly = true, Propagation = Runtime.V1.MountPropagation.PropagationHostToContainer }]));

        Assert.True(taken.ReadOnly && taken.RecursiveReadOnly);
        Assert.Equal("mount /a: recursive_read_only needs readonly", writable.Message);
        Assert.Equal("mount /a: recursive_read_only needs private propagation, not PropagationHostToContainer", following.Message);
    }

    [Fact]
    public void Status_reports_a_recursive_read_only_mount_as_such()
    {
        var container = Sample() with { Mounts = [new ContainerMount("/data", "/srv/data", true, Spherelet.Domain.Containers.MountPropagation.Private, "/pod/volumes/c1/0", RecursiveReadOnly: true)] };

        var mount = Assert.Single(ContainerMapping.ToStatus(container).Mounts);

        Assert.True(mount.Readonly && mount.RecursiveReadOnly);
    }
}
