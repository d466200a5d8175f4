using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;
using Spherelet.Agent.Options;

namespace Spherelet.Agent.Metrics;

/// <summary>
/// Serves the Prometheus text format at <c>http://Metrics:Address:Metrics:Port/metrics</c>, on a
/// listener of its own (the CRI socket stays HTTP/2 on a Unix socket); nothing listens when the
/// port is 0.
/// </summary>
public sealed partial class MetricsServerService : IHostedService, IDisposable
{
    private readonly MetricsOptions _options;
    private readonly CollectorRegistry _registry;
    private readonly ILogger<MetricsServerService> _logger;
    private IMetricServer? _server;

    /// <param name="state">Registered with the registry before the first scrape.</param>
    /// <param name="streaming">Registered with the registry before the first scrape.</param>
    public MetricsServerService(MetricsOptions options, CollectorRegistry registry, RuntimeStateMetrics state, StreamingMetrics streaming, ILogger<MetricsServerService> logger)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(streaming);
        _options = options;
        _registry = registry;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Port == 0)
        {
            LogOff();
            return Task.CompletedTask;
        }

        _server = new KestrelMetricServer(_options.Address, _options.Port, "/metrics", _registry).Start();
        LogListening(_options.Address, _options.Port);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is not null)
        {
            await _server.StopAsync();
        }
    }

    public void Dispose() => _server?.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "metrics listening url=http://{Address}:{Port}/metrics")]
    private partial void LogListening(string address, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "metrics listener off (Metrics:Port 0)")]
    private partial void LogOff();
}
