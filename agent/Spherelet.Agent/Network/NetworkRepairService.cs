using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Errors;

namespace Spherelet.Agent.Network;

/// <summary>
/// Every <c>Network:RepairIntervalSeconds</c> asks the pod network to put back what the switch or
/// the host's rules lost (<see cref="OvsPodNetwork.RepairAsync"/>): OpenFlow rules do not survive
/// an ovs-vswitchd restart, and a firewall reload can flush nftables. A failure is logged once
/// until it changes or clears; the next tick tries again.
/// </summary>
public sealed partial class NetworkRepairService : BackgroundService
{
    private readonly OvsPodNetwork _network;
    private readonly TimeSpan _interval;
    private readonly ILogger<NetworkRepairService> _logger;

    public NetworkRepairService(OvsPodNetwork network, TimeSpan interval, ILogger<NetworkRepairService> logger)
    {
        _network = network;
        _interval = interval;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_interval <= TimeSpan.Zero)
        {
            return;
        }

        string? failing = null;
        using var timer = new PeriodicTimer(_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await _network.RepairAsync(stoppingToken);
                    if (failing is not null)
                    {
                        LogRepairWorks();
                        failing = null;
                    }
                }
                catch (Exception e) when (e is SphereletException or IOException or UnauthorizedAccessException)
                {
                    if (e.Message != failing)
                    {
                        LogRepairFailed(e.Message);
                        failing = e.Message;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "network repair failed (tried again every interval, logged again when the reason changes): {Reason}")]
    private partial void LogRepairFailed(string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "network repair works again")]
    private partial void LogRepairWorks();
}
