using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spherelet.Agent.Options;
using Spherelet.Domain.Health;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Agent.Hosting;

/// <summary>
/// Logs the start and, once the socket serves and recovery has finished (it makes the
/// integration bridge, which a check looks at; a minute at most), every host check that fails.
/// </summary>
public sealed class StartupReportService : BackgroundService
{
    private readonly HostHealth _health;
    private readonly SphereletOptions _options;
    private readonly ILogger<StartupReportService> _logger;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly RuntimeReadiness _readiness;

    public StartupReportService(HostHealth health, SphereletOptions options, IHostApplicationLifetime lifetime, RuntimeReadiness readiness, ILogger<StartupReportService> logger)
    {
        _readiness = readiness;
        _health = health;
        _options = options;
        _lifetime = lifetime;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource();
        using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        AgentLog.Serving(_logger, _options.Socket);
        try
        {
            // A recovery that cannot finish (libvirt unreachable, say) must not hide the checks that say why.
            await _readiness.Recovered.WaitAsync(TimeSpan.FromSeconds(60), stoppingToken);
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException)
        {
            return;
        }

        var report = await _health.CheckAsync(stoppingToken);
        foreach (var failed in report.Results.Where(r => !r.Passed))
        {
            AgentLog.CheckFailed(_logger, failed.Name, failed.Reason, failed.Detail, failed.Fix);
        }

    }
}
