using Prometheus;
using Spherelet.Streaming;

namespace Spherelet.Agent.Metrics;

/// <summary>
/// <c>spherelet_streaming_sessions{kind}</c> (open now) and <c>spherelet_streaming_sessions_total{kind}</c>
/// (started since the agent started), read from the streaming server's own count at each scrape.
/// </summary>
public sealed class StreamingMetrics
{
    private static readonly string[] Kinds = ["exec", "attach", "portforward"];

    private readonly StreamingSessions _sessions;
    private readonly Gauge _open;
    private readonly Counter _total;

    public StreamingMetrics(StreamingSessions sessions, CollectorRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _sessions = sessions;
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _open = factory.CreateGauge("spherelet_streaming_sessions", "Streaming sessions open now, by kind (exec, attach, portforward).", "kind");
        _total = factory.CreateCounter("spherelet_streaming_sessions_total", "Streaming sessions started since the agent started, by kind.", "kind");
        registry.AddBeforeCollectCallback(Update);
    }

    private void Update()
    {
        var snapshot = _sessions.Snapshot();
        foreach (var kind in Kinds.Concat(snapshot.Keys).Distinct(StringComparer.Ordinal))
        {
            var (open, total) = snapshot.GetValueOrDefault(kind);
            _open.WithLabels(kind).Set(open);
            _total.WithLabels(kind).IncTo(total);
        }
    }
}
