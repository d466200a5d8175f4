using Prometheus;
using Spherelet.Agent.Network;

namespace Spherelet.Agent.Metrics;

/// <summary>
/// <c>spherelet_network_drift_found_total{scope}</c> and <c>spherelet_network_drift_repaired_total{scope}</c>:
/// what the periodic network repair found differing from the allocations and put back, by scope
/// (node, segment, pod_port).
/// </summary>
public sealed class NetworkDriftMetrics : INetworkDriftMeter
{
    private static readonly string[] Scopes = ["node", "segment", "pod_port"];

    private readonly Counter _found;
    private readonly Counter _repaired;

    public NetworkDriftMetrics(CollectorRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _found = factory.CreateCounter("spherelet_network_drift_found_total", "Differences between the switch or the host's rules and the pod network's allocations, by scope.", "scope");
        _repaired = factory.CreateCounter("spherelet_network_drift_repaired_total", "Differences the periodic network repair put back, by scope.", "scope");
        foreach (var scope in Scopes)
        {
            _found.WithLabels(scope);
            _repaired.WithLabels(scope);
        }
    }

    public void Found(DriftFinding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        _found.WithLabels(finding.Scope).Inc();
    }

    public void Repaired(DriftFinding finding)
    {
        ArgumentNullException.ThrowIfNull(finding);
        _repaired.WithLabels(finding.Scope).Inc();
    }
}
