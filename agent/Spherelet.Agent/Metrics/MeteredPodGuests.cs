using System.Diagnostics;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Agent.Metrics;

/// <summary>The pods' guests, with the first connect to a just-started VM timed (the guest_ready phase).</summary>
public sealed class MeteredPodGuests(IPodGuests inner, PodStartMetrics metrics) : IPodGuests
{
    public int OpenConnections => inner.OpenConnections;

    public async Task<GuestInfo> ConnectAsync(string sandboxId, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        // Taken before the attempt: a guest that never answers leaves nothing behind here.
        var booting = metrics.TakeVmStarted(sandboxId);
        var info = await inner.ConnectAsync(sandboxId, cancellationToken);
        if (booting)
        {
            metrics.Observe(PodStartMetrics.GuestReady, started);
        }

        return info;
    }

    public Task ConfigureAsync(string sandboxId, GuestSandboxSettings settings, CancellationToken cancellationToken) =>
        inner.ConfigureAsync(sandboxId, settings, cancellationToken);

    public Task ShutdownAsync(string sandboxId, CancellationToken cancellationToken) => inner.ShutdownAsync(sandboxId, cancellationToken);

    public Task<IPodPortConnection> OpenPortAsync(string sandboxId, int port, CancellationToken cancellationToken) =>
        inner.OpenPortAsync(sandboxId, port, cancellationToken);

    public Task CloseAsync(string sandboxId) => inner.CloseAsync(sandboxId);
}
