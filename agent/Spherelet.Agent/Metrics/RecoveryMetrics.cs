using System.Text.Json;
using Prometheus;
using Spherelet.Domain.Runtime;

namespace Spherelet.Agent.Metrics;

/// <summary><c>spherelet_recovery_leftovers_removed_total{kind}</c>: what the recoveries since the agent started found left over and removed.</summary>
public sealed class RecoveryMetrics : IRecoveryMeter
{
    private readonly Counter _removed;

    public RecoveryMetrics(CollectorRegistry registry)
    {
        _removed = Prometheus.Metrics.WithCustomRegistry(registry).CreateCounter(
            "spherelet_recovery_leftovers_removed_total",
            "Leftovers (VMs, pod and VM directories, container records, pod networks, switch ports, port security flows, segments) the recovery removed, by kind.",
            "kind");
        foreach (var kind in Enum.GetValues<LeftoverKind>())
        {
            _removed.WithLabels(Label(kind));
        }
    }

    public void Removed(LeftoverKind kind) => _removed.WithLabels(Label(kind)).Inc();

    private static string Label(LeftoverKind kind) => JsonNamingPolicy.SnakeCaseLower.ConvertName(kind.ToString());
}
