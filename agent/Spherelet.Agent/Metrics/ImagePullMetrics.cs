using Prometheus;
using Spherelet.Images;

namespace Spherelet.Agent.Metrics;

/// <summary>
/// Image pulls: <c>spherelet_image_pull_duration_seconds</c> (pulls that stored their image),
/// <c>spherelet_image_pull_bytes_total</c> (what came from registries, failed pulls included) and
/// <c>spherelet_image_pull_failures_total{reason}</c>.
/// </summary>
public sealed class ImagePullMetrics : IImagePullMeter
{
    private readonly Histogram _duration;
    private readonly Counter _bytes;
    private readonly Counter _failures;

    public ImagePullMetrics(CollectorRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        _duration = factory.CreateHistogram(
            "spherelet_image_pull_duration_seconds",
            "How long image pulls that stored their image took (one per reference, however many callers waited on it).",
            new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.05, 2, 14) });
        _bytes = factory.CreateCounter("spherelet_image_pull_bytes_total", "Bytes of layers fetched from registries by image pulls.");
        _failures = factory.CreateCounter(
            "spherelet_image_pull_failures_total",
            "Image pulls that failed, by reason: not_found, unauthorized, unavailable, digest_mismatch, invalid, io, canceled, other.",
            "reason");
    }

    public void Pulled(TimeSpan duration, long fetchedBytes)
    {
        _duration.Observe(duration.TotalSeconds);
        _bytes.Inc(fetchedBytes);
    }

    public void Failed(TimeSpan duration, long fetchedBytes, string reason)
    {
        _bytes.Inc(fetchedBytes);
        _failures.WithLabels(reason).Inc();
    }
}
