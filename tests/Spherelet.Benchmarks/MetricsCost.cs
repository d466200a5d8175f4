using System.Diagnostics;
using System.Globalization;
using Runtime.V1;
using Spherelet.Cri;

namespace Spherelet.Benchmarks;

/// <summary>
/// What the metrics cost a pod start: two fresh daemons alike but for their metrics, one metered
/// and scraped every second (Prometheus scrapes every 15 to 60 s), one with <c>Metrics:Port</c> 0
/// (no listener, no meters); microvm pods started on each in turn, at least 10 of each.
/// </summary>
internal static class MetricsCost
{
    /// <summary>Where each daemon's microvm QEMUs take their ids: apart from each other's and the session daemon's.</summary>
    private const uint OnFirstId = 3_400_000_000;

    private const uint OffFirstId = 3_500_000_000;

    public static async Task<(List<double> On, List<double> Off, List<double> ScrapeMs)> MeasureAsync(
        ContainersBenchOptions options,
        IReadOnlyDictionary<string, string> environment,
        ImageSpec image,
        string logs,
        Func<RuntimeService.RuntimeServiceClient, ImageSpec, string, string, string, Task<ContainerStartTiming>> startPod,
        Func<RuntimeService.RuntimeServiceClient, ContainerStartTiming, Task> removePod,
        string handler)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(startPod);
        ArgumentNullException.ThrowIfNull(removePod);
        var port = FreePort();
        var (on, off, scrapes) = (new List<double>(), new List<double>(), new List<double>());
        await using var metered = await BenchDaemon.StartAsync(options, environment, port, OnFirstId, image);
        await using var unmetered = await BenchDaemon.StartAsync(options, environment, 0, OffFirstId, image);
        using var stop = new CancellationTokenSource();
        var scraper = ScrapeEverySecondAsync(port, scrapes, stop.Token);
        for (var run = 0; run < Math.Max(10, options.Runs * 2); run++)
        {
            // Alternate which goes first, so neither always follows the other's teardown.
            foreach (var withMetrics in run % 2 == 0 ? new[] { true, false } : [false, true])
            {
                var client = (withMetrics ? metered : unmetered).Runtime;
                var pod = await startPod(client, image, logs, $"metrics-{(withMetrics ? "on" : "off")}-{run}", handler);
                (withMetrics ? on : off).Add(pod.FirstLogLineMs);
                await removePod(client, pod);
            }
        }

        await stop.CancelAsync();
        await scraper;
        return (on, off, scrapes);
    }

    /// <summary>A TCP port on 127.0.0.1 that nothing listened on a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task ScrapeEverySecondAsync(int port, List<double> durations, CancellationToken stop)
    {
        using var http = new HttpClient();
        var url = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/metrics");
        while (!stop.IsCancellationRequested)
        {
            var watch = Stopwatch.StartNew();
            var text = await http.GetStringAsync(url, CancellationToken.None);
            durations.Add(watch.Elapsed.TotalMilliseconds);
            if (!text.Contains("spherelet_pod_start_phase_duration_seconds", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("the metered daemon's scrape has no pod start phases");
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

