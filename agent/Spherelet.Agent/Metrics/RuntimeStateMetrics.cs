using Prometheus;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Agent.Metrics;

/// <summary>
/// How many sandboxes and containers there are by state and runtime handler, read from the
/// services at each scrape (<c>spherelet_sandboxes</c>, <c>spherelet_containers</c>): nothing is
/// counted along the way, so the figures cannot drift from the runtime's own.
/// </summary>
public sealed class RuntimeStateMetrics
{
    private readonly Gauge _sandboxes;
    private readonly Gauge _containers;
    private readonly SandboxService _sandboxService;
    private readonly ContainerService _containerService;

    public RuntimeStateMetrics(SandboxService sandboxes, ContainerService containers, CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _sandboxService = sandboxes;
        _containerService = containers;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _sandboxes = factory.CreateGauge("spherelet_sandboxes", "Pod sandboxes by state and runtime handler.", "state", "runtime_handler");
        _containers = factory.CreateGauge("spherelet_containers", "Containers by state and their pod's runtime handler.", "state", "runtime_handler");
        registry.AddBeforeCollectCallback(Update);
    }

    private void Update()
    {
        var sandboxes = _sandboxService.Snapshot();
        var handlers = _sandboxService.Handlers.All.Select(h => h.Name).Concat(sandboxes.Select(s => s.RuntimeHandler)).Distinct(StringComparer.Ordinal);
        foreach (var handler in handlers)
        {
            foreach (var state in Enum.GetValues<SandboxState>())
            {
                _sandboxes.WithLabels(Label(state), handler).Set(sandboxes.Count(s => s.RuntimeHandler == handler && s.State == state));
            }

            var ofHandler = sandboxes.Where(s => s.RuntimeHandler == handler).Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
            var containers = ofHandler.SelectMany(_containerService.ContainersOf).ToList();
            foreach (var state in Enum.GetValues<ContainerState>())
            {
                _containers.WithLabels(Label(state), handler).Set(containers.Count(c => c.State == state));
            }
        }
    }

    private static string Label<T>(T state)
        where T : struct, Enum => state.ToString().ToLowerInvariant();
}
