using Runtime.V1;
using Spherelet.Cri;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Sandboxes;
using PodSandbox = Spherelet.Domain.Sandboxes.PodSandbox;
using PodSandboxMetadata = Spherelet.Domain.Sandboxes.PodSandboxMetadata;
using DomainContainer = Spherelet.Domain.Containers.Container;

namespace Spherelet.Tests.Cri;

/// <summary>The cAdvisor-style metrics of ListMetricDescriptors and ListPodSandboxMetrics, as a kubelet's CRI metrics collector reads them.</summary>
public sealed class PodMetricsMappingTests
{
    private static readonly PodSandbox Sandbox = new()
    {
        Id = new string('a', 64),
        Metadata = new PodSandboxMetadata("web", "shop", "u1", 0),
        Labels = new Dictionary<string, string>(),
        Annotations = new Dictionary<string, string>(),
        RuntimeHandler = "default",
        CreatedAt = 1,
        State = SandboxState.Ready,
        VmName = "sph-aaaaaaaaaaaa",
        VmUuid = Guid.NewGuid(),
        VirtualCpus = 1,
        MemoryMiB = 256,
        Hostname = "web",
        Dns = DnsSettings.None,
        LogDirectory = string.Empty,
        Guest = new GuestInfo("1", "6.1", 100),
    };

    private static DomainContainer Container(string id, string name, Spherelet.Domain.Containers.ContainerState state) => new()
    {
        Id = id,
        SandboxId = Sandbox.Id,
        Metadata = new Spherelet.Domain.Containers.ContainerMetadata(name, 0),
        Image = new ContainerImage("registry.test/app:1", "sha256:aa", "registry.test/app@sha256:bb", []),
        Labels = new Dictionary<string, string>(),
        Annotations = new Dictionary<string, string>(),
        LogPath = string.Empty,
        HostLogPath = string.Empty,
        Tty = false,
        Stdin = false,
        StdinOnce = false,
        Mounts = [],
        StopSignal = 15,
        ProcessJson = "{}",
        ResourcesJson = "{}",
        State = state,
        CreatedAt = 1,
    };

    private static PodUsage Usage() => new(
        new ResourceUsage(5_900_000_000, 90 << 20, 80 << 20, 12, 1) { CpuUserNanoseconds = 4_000_000_000, PageFaults = 1000 },
        256 << 20,
        new Dictionary<string, ResourceUsage>
        {
            ["c1"] = new(2_500_000_000, 30 << 20, 20 << 20, 2, 1, WritableBytes: 4096) { RssBytes = 10 << 20, OomKills = 1, IoWriteBytes = 8192 },
            ["c2"] = new(1, 1, 1, 1, 1),
        })
    {
        Interfaces = [new InterfaceUsage("eth0", 100, 2, 0, 0, 200, 3, 0, 0), new InterfaceUsage("lo", 50, 1, 0, 0, 50, 1, 0, 0)],
    };

    [Fact]
    public void Descriptors_are_unique_helped_and_carry_id_image_namespace_pod_container_first()
    {
        var descriptors = PodMetricsMapping.Descriptors;

        Assert.Equal(descriptors.Count, descriptors.Select(d => d.Name).Distinct(StringComparer.Ordinal).Count());
        Assert.All(descriptors, d =>
        {
            Assert.NotEmpty(d.Help);
            Assert.Equal(["id", "image", "namespace", "pod", "container"], d.LabelKeys.Take(5));
            Assert.Matches("^[a-z_]+$", d.Name);
        });
        Assert.Contains(descriptors, d => d.Name == "container_memory_working_set_bytes");
        Assert.Equal(["cpu"], descriptors.Single(d => d.Name == "container_cpu_usage_seconds_total").LabelKeys.Skip(5));
        Assert.Equal(["interface"], descriptors.Single(d => d.Name == "container_network_receive_bytes_total").LabelKeys.Skip(5));
    }

    [Fact]
    public void Every_metric_is_described_has_as_many_label_values_as_keys_and_no_series_repeats()
    {
        var metrics = PodMetricsMapping.ToMetrics(Sandbox, Usage(), [Container("c1", "app", Spherelet.Domain.Containers.ContainerState.Running)]);
        var descriptors = PodMetricsMapping.Descriptors.ToDictionary(d => d.Name, StringComparer.Ordinal);
        var all = metrics.Metrics.Concat(metrics.ContainerMetrics.SelectMany(c => c.Metrics)).ToList();

        Assert.All(all, m => Assert.Equal(descriptors[m.Name].LabelKeys.Count, m.LabelValues.Count));
        Assert.Equal(all.Count, all.Select(m => m.Name + "|" + string.Join("|", m.LabelValues)).Distinct(StringComparer.Ordinal).Count());
        Assert.All(all, m => Assert.Equal(m.Name.EndsWith("_total", StringComparison.Ordinal) ? MetricType.Counter : MetricType.Gauge, m.MetricType));
    }

    [Fact]
    public void The_pods_own_metrics_are_its_vms_and_its_interfaces_and_each_running_containers_carry_its_id_image_and_name()
    {
        var metrics = PodMetricsMapping.ToMetrics(
            Sandbox,
            Usage(),
            [Container("c1", "app", Spherelet.Domain.Containers.ContainerState.Running), Container("c2", "done", Spherelet.Domain.Containers.ContainerState.Exited)]);

        Assert.Equal(Sandbox.Id, metrics.PodSandboxId);
        var podCpu = metrics.Metrics.Single(m => m.Name == "container_cpu_usage_seconds_total");
        Assert.Equal([Sandbox.Id, string.Empty, "shop", "web", "POD", "total"], podCpu.LabelValues);
        Assert.Equal(5UL, podCpu.Value.Value); // whole seconds
        Assert.Equal(4UL, metrics.Metrics.Single(m => m.Name == "container_cpu_user_seconds_total").Value.Value);
        Assert.Equal(80UL << 20, metrics.Metrics.Single(m => m.Name == "container_memory_working_set_bytes").Value.Value);
        Assert.Equal(1000UL, metrics.Metrics.Single(m => m.Name == "container_memory_failures_total" && m.LabelValues[5] == "pgfault").Value.Value);
        Assert.DoesNotContain(metrics.Metrics, m => m.Name == "container_fs_usage_bytes");
        var eth0 = metrics.Metrics.Single(m => m.Name == "container_network_transmit_bytes_total" && m.LabelValues[5] == "eth0");
        Assert.Equal(200UL, eth0.Value.Value);
        Assert.Equal(MetricType.Counter, eth0.MetricType);
        Assert.Contains(metrics.Metrics, m => m.Name == "container_network_receive_bytes_total" && m.LabelValues[5] == "lo" && m.Value.Value == 50);

        // The exited container is not reported, as cAdvisor reports running containers only.
        var container = Assert.Single(metrics.ContainerMetrics);
        Assert.Equal("c1", container.ContainerId);
        var working = container.Metrics.Single(m => m.Name == "container_memory_working_set_bytes");
        Assert.Equal(["c1", "registry.test/app:1", "shop", "web", "app"], working.LabelValues);
        Assert.Equal(20UL << 20, working.Value.Value);
        Assert.Equal(2UL, container.Metrics.Single(m => m.Name == "container_cpu_usage_seconds_total").Value.Value);
        Assert.Equal(4096UL, container.Metrics.Single(m => m.Name == "container_fs_usage_bytes").Value.Value);
        Assert.Equal(1UL, container.Metrics.Single(m => m.Name == "container_oom_events_total").Value.Value);
        Assert.Equal(8192UL, container.Metrics.Single(m => m.Name == "container_fs_writes_bytes_total").Value.Value);
        Assert.DoesNotContain(container.Metrics, m => m.Name.StartsWith("container_network_", StringComparison.Ordinal));
    }
}
