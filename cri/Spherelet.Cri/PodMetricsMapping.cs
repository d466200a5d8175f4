using Runtime.V1;
using Spherelet.Domain.Containers;
using DomainContainer = Spherelet.Domain.Containers.Container;

namespace Spherelet.Cri;

/// <summary>
/// The cAdvisor-style metrics of <c>ListMetricDescriptors</c> and <c>ListPodSandboxMetrics</c>,
/// under the names a kubelet's <c>/metrics/cadvisor</c> has always shown. Every metric carries the
/// labels <c>id, image, namespace, pod, container</c> (then its own): a container's are its id,
/// image and name; the pod's own (its VM as a whole, its network) carry the sandbox id and the
/// container name <c>POD</c>. Values are what the pod's guest read from its cgroups and
/// <c>/sys/class/net</c>; CRI carries them as whole numbers, so seconds are whole seconds.
/// </summary>
public static class PodMetricsMapping
{
    /// <summary>The container name of the pod's own metrics.</summary>
    public const string PodContainerName = "POD";

    private const ulong NanosecondsPerSecond = 1_000_000_000;

    private static readonly string[] BaseKeys = ["id", "image", "namespace", "pod", "container"];

    private static readonly (string Name, string Help, string[] Extra)[] Known =
    [
        ("container_cpu_usage_seconds_total", "Cumulative CPU time consumed, in whole seconds.", ["cpu"]),
        ("container_cpu_user_seconds_total", "Cumulative user CPU time consumed, in whole seconds.", []),
        ("container_cpu_system_seconds_total", "Cumulative system CPU time consumed, in whole seconds.", []),
        ("container_cpu_cfs_periods_total", "Number of elapsed CFS enforcement periods.", []),
        ("container_cpu_cfs_throttled_periods_total", "Number of CFS periods in which the container was throttled.", []),
        ("container_cpu_cfs_throttled_seconds_total", "Total time the container was throttled, in whole seconds.", []),
        ("container_memory_usage_bytes", "Current memory usage, including all memory regardless of when it was accessed.", []),
        ("container_memory_working_set_bytes", "Current working set: memory usage less inactive file pages.", []),
        ("container_memory_rss", "Size of anonymous memory (RSS).", []),
        ("container_memory_cache", "Page cache memory.", []),
        ("container_memory_mapped_file", "Size of memory-mapped files.", []),
        ("container_memory_swap", "Swap usage.", []),
        ("container_memory_max_usage_bytes", "Maximum memory usage recorded (0 where the guest kernel records none).", []),
        ("container_memory_failures_total", "Cumulative count of memory allocation failures (page faults).", ["failure_type", "scope"]),
        ("container_oom_events_total", "Count of out-of-memory kills in the container.", []),
        ("container_processes", "Number of processes running inside the container.", []),
        ("container_fs_usage_bytes", "Bytes used by the container's writable layer.", []),
        ("container_fs_reads_bytes_total", "Cumulative bytes read from block devices.", []),
        ("container_fs_writes_bytes_total", "Cumulative bytes written to block devices.", []),
        ("container_network_receive_bytes_total", "Cumulative bytes received.", ["interface"]),
        ("container_network_receive_packets_total", "Cumulative packets received.", ["interface"]),
        ("container_network_receive_packets_dropped_total", "Cumulative packets dropped while receiving.", ["interface"]),
        ("container_network_receive_errors_total", "Cumulative errors while receiving.", ["interface"]),
        ("container_network_transmit_bytes_total", "Cumulative bytes transmitted.", ["interface"]),
        ("container_network_transmit_packets_total", "Cumulative packets transmitted.", ["interface"]),
        ("container_network_transmit_packets_dropped_total", "Cumulative packets dropped while transmitting.", ["interface"]),
        ("container_network_transmit_errors_total", "Cumulative errors while transmitting.", ["interface"]),
    ];

    /// <summary>Every metric <see cref="ToMetrics"/> can return; the same list for the agent's whole life.</summary>
    public static IReadOnlyList<MetricDescriptor> Descriptors { get; } = Known.Select(d =>
    {
        var descriptor = new MetricDescriptor { Name = d.Name, Help = d.Help };
        descriptor.LabelKeys.Add(BaseKeys.Concat(d.Extra));
        return descriptor;
    }).ToList();

    /// <summary>The pod's metrics: the VM's and its network's as the pod's own, and each running container's that the guest reported.</summary>
    public static PodSandboxMetrics ToMetrics(Domain.Sandboxes.PodSandbox sandbox, PodUsage usage, IEnumerable<DomainContainer> containers)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        ArgumentNullException.ThrowIfNull(usage);
        ArgumentNullException.ThrowIfNull(containers);
        var result = new PodSandboxMetrics { PodSandboxId = sandbox.Id };
        string[] pod = [sandbox.Id, string.Empty, sandbox.Metadata.Namespace, sandbox.Metadata.Name, PodContainerName];
        result.Metrics.Add(Usage(pod, usage.Vm, withFilesystem: false));
        foreach (var nic in usage.Interfaces)
        {
            string[] labels = [.. pod, nic.Name];
            result.Metrics.Add(
            [
                Counter("container_network_receive_bytes_total", labels, nic.RxBytes),
                Counter("container_network_receive_packets_total", labels, nic.RxPackets),
                Counter("container_network_receive_packets_dropped_total", labels, nic.RxDropped),
                Counter("container_network_receive_errors_total", labels, nic.RxErrors),
                Counter("container_network_transmit_bytes_total", labels, nic.TxBytes),
                Counter("container_network_transmit_packets_total", labels, nic.TxPackets),
                Counter("container_network_transmit_packets_dropped_total", labels, nic.TxDropped),
                Counter("container_network_transmit_errors_total", labels, nic.TxErrors),
            ]);
        }

        foreach (var container in containers.Where(c => c.State == Spherelet.Domain.Containers.ContainerState.Running).OrderBy(c => c.Id, StringComparer.Ordinal))
        {
            if (usage.Containers.TryGetValue(container.Id, out var used))
            {
                string[] labels = [container.Id, container.Image.Reference, sandbox.Metadata.Namespace, sandbox.Metadata.Name, container.Metadata.Name];
                var metrics = new ContainerMetrics { ContainerId = container.Id };
                metrics.Metrics.Add(Usage(labels, used, withFilesystem: true));
                result.ContainerMetrics.Add(metrics);
            }
        }

        return result;
    }

    private static IEnumerable<Metric> Usage(string[] labels, ResourceUsage usage, bool withFilesystem)
    {
        yield return Counter("container_cpu_usage_seconds_total", [.. labels, "total"], usage.CpuNanoseconds / NanosecondsPerSecond);
        yield return Counter("container_cpu_user_seconds_total", labels, usage.CpuUserNanoseconds / NanosecondsPerSecond);
        yield return Counter("container_cpu_system_seconds_total", labels, usage.CpuSystemNanoseconds / NanosecondsPerSecond);
        yield return Counter("container_cpu_cfs_periods_total", labels, usage.CpuPeriods);
        yield return Counter("container_cpu_cfs_throttled_periods_total", labels, usage.CpuThrottledPeriods);
        yield return Counter("container_cpu_cfs_throttled_seconds_total", labels, usage.CpuThrottledNanoseconds / NanosecondsPerSecond);
        yield return Gauge("container_memory_usage_bytes", labels, usage.MemoryUsageBytes);
        yield return Gauge("container_memory_working_set_bytes", labels, usage.WorkingSetBytes);
        yield return Gauge("container_memory_rss", labels, usage.RssBytes);
        yield return Gauge("container_memory_cache", labels, usage.CacheBytes);
        yield return Gauge("container_memory_mapped_file", labels, usage.MappedFileBytes);
        yield return Gauge("container_memory_swap", labels, usage.SwapBytes);
        yield return Gauge("container_memory_max_usage_bytes", labels, usage.MaxUsageBytes);
        yield return Counter("container_memory_failures_total", [.. labels, "pgfault", "container"], usage.PageFaults);
        yield return Counter("container_memory_failures_total", [.. labels, "pgmajfault", "container"], usage.MajorPageFaults);
        yield return Counter("container_oom_events_total", labels, usage.OomKills);
        yield return Gauge("container_processes", labels, usage.Processes);
        if (withFilesystem)
        {
            yield return Gauge("container_fs_usage_bytes", labels, usage.WritableBytes);
        }

        yield return Counter("container_fs_reads_bytes_total", labels, usage.IoReadBytes);
        yield return Counter("container_fs_writes_bytes_total", labels, usage.IoWriteBytes);
    }

    private static Metric Counter(string name, string[] labels, ulong value) => Make(name, MetricType.Counter, labels, value);

    private static Metric Gauge(string name, string[] labels, ulong value) => Make(name, MetricType.Gauge, labels, value);

    // Timestamp 0: read when asked, not cached.
    private static Metric Make(string name, MetricType type, string[] labels, ulong value)
    {
        var metric = new Metric { Name = name, MetricType = type, Value = new UInt64Value { Value = value } };
        metric.LabelValues.Add(labels);
        return metric;
    }
}
