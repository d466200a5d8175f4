using Prometheus;
using Spherelet.Guest;

namespace Spherelet.Agent.Metrics;

/// <summary><c>spherelet_guest_channel_round_trip_seconds</c>: how long CRX took to answer the keepalive pings on the pods' channels.</summary>
public sealed class GuestChannelMetrics : IGuestChannelMeter
{
    private readonly Histogram _roundTrip;

    public GuestChannelMetrics(CollectorRegistry registry)
    {
        _roundTrip = Prometheus.Metrics.WithCustomRegistry(registry).CreateHistogram(
            "spherelet_guest_channel_round_trip_seconds",
            "Round-trip time of the keepalive pings on the pods' guest channels (one at connect, then one per keepalive interval).",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.0001, 2, 16) });
    }

    public void RoundTrip(TimeSpan roundTrip) => _roundTrip.Observe(roundTrip.TotalSeconds);
}
