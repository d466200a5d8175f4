using System.Collections.Concurrent;
using System.Diagnostics;
using Prometheus;

namespace Spherelet.Agent.Metrics;

/// <summary>
/// <c>spherelet_pod_start_phase_duration_seconds{phase}</c>: how long each phase of a pod's start
/// took (network_attach, vm_start, guest_ready, container_create, container_start), observed by the
/// metering decorators of the ports that do the work. guest_ready is counted only for a VM that
/// was just started, not for the reconnects of an agent restart.
/// </summary>
public sealed class PodStartMetrics
{
    public const string NetworkAttach = "network_attach";
    public const string VmStart = "vm_start";
    public const string GuestReady = "guest_ready";
    public const string ContainerCreate = "container_create";
    public const string ContainerStart = "container_start";

    /// <summary>From 10 ms to about 80 s: a phase under KVM takes milliseconds, a boot under TCG seconds.</summary>
    private static readonly double[] Buckets = Histogram.ExponentialBuckets(0.01, 2, 14);

    private readonly Histogram _phases;
    private readonly ConcurrentDictionary<string, bool> _booted = new(StringComparer.Ordinal);

    public PodStartMetrics(CollectorRegistry registry)
    {
        _phases = Prometheus.Metrics.WithCustomRegistry(registry).CreateHistogram(
            "spherelet_pod_start_phase_duration_seconds",
            "How long each phase of starting a pod took: network_attach, vm_start, guest_ready, container_create, container_start.",
            new HistogramConfiguration { LabelNames = ["phase"], Buckets = Buckets });
        foreach (var phase in new[] { NetworkAttach, VmStart, GuestReady, ContainerCreate, ContainerStart })
        {
            _phases.WithLabels(phase);
        }
    }

    /// <summary>Observes the time since <paramref name="startedTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void Observe(string phase, long startedTimestamp) =>
        _phases.WithLabels(phase).Observe(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds);

    /// <summary>The sandbox's VM has just been started: its next guest connect is its guest_ready phase.</summary>
    public void VmStarted(string sandboxId) => _booted[sandboxId] = true;

    /// <summary>Whether the sandbox's VM was just started (and forgets it).</summary>
    public bool TakeVmStarted(string sandboxId) => _booted.TryRemove(sandboxId, out _);
}
