using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Vmm;

namespace Spherelet.Agent.Sandboxes;

/// <summary>
/// At start: watches every VMM backend for VMs that stop, then recovers the sandboxes (reload,
/// reconcile with each backend, reconnect to guests) and their containers (reload, watch the
/// running ones). Until recovery has finished, sandbox and container RPCs answer Unavailable; it is
/// retried while a backend cannot serve (libvirtd unreachable).
/// </summary>
public sealed partial class SandboxRecoveryService : IHostedService, IDisposable
{
    private readonly SandboxService _sandboxes;
    private readonly ContainerService _containers;
    private readonly VmmRegistry _vmms;
    private readonly ILogger<SandboxRecoveryService> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<IDisposable> _watches = [];
    private Task _recovery = Task.CompletedTask;

    public SandboxRecoveryService(SandboxService sandboxes, ContainerService containers, VmmRegistry vmms, ILogger<SandboxRecoveryService> logger)
    {
        _sandboxes = sandboxes;
        _containers = containers;
        _vmms = vmms;
        _logger = logger;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var vmm in _vmms.All)
        {
            _watches.Add(vmm.WatchStops(stopped => _ = OnStoppedAsync(stopped)));
            _watches.Add(vmm.WatchReconnects(OnReconnected));
        }

        _recovery = Task.Run(RecoverAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        DisposeWatches();
        try
        {
            await _recovery.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    public void Dispose()
    {
        DisposeWatches();
        _stopping.Dispose();
    }

    private void DisposeWatches()
    {
        foreach (var watch in _watches)
        {
            watch.Dispose();
        }

        _watches.Clear();
    }

    private async Task RecoverAsync()
    {
        for (var attempt = 1; !_stopping.IsCancellationRequested; attempt++)
        {
            try
            {
                foreach (var vmm in _vmms.All)
                {
                    await vmm.OpenAsync(_stopping.Token);
                }

                await _sandboxes.RecoverAsync(_stopping.Token, _containers.RecoverAsync);
                return;
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is SphereletException or IOException)
            {
                LogRecoveryRetry(attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(2), _stopping.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private void OnReconnected() => _ = ResyncAsync();

    private async Task ResyncAsync()
    {
        try
        {
            await _recovery;
            await _sandboxes.ResyncAsync(_stopping.Token);
        }
        catch (Exception e) when (e is SphereletException or IOException or OperationCanceledException)
        {
            LogStopHandlingFailed("*", e.Message);
        }
    }

    private async Task OnStoppedAsync(VmStopped stopped)
    {
        try
        {
            await _sandboxes.OnVmStoppedAsync(stopped);
        }
        catch (Exception e) when (e is SphereletException or IOException)
        {
            LogStopHandlingFailed(stopped.Name, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "recovery failed, retrying attempt={Attempt} error={Error}")]
    private partial void LogRecoveryRetry(int attempt, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "cannot record a stopped vm vm={VmName} error={Error}")]
    private partial void LogStopHandlingFailed(string vmName, string error);
}
