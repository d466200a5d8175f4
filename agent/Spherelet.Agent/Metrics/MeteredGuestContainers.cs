using System.Diagnostics;
using Spherelet.Domain.Containers;

namespace Spherelet.Agent.Metrics;

/// <summary>The guests' containers, with creates and starts timed (the container_create and container_start phases).</summary>
public sealed class MeteredGuestContainers(IGuestContainers inner, PodStartMetrics metrics) : IGuestContainers
{
    public async Task<int> CreateAsync(string sandboxId, GuestContainerCreate create, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var pid = await inner.CreateAsync(sandboxId, create, cancellationToken);
        metrics.Observe(PodStartMetrics.ContainerCreate, started);
        return pid;
    }

    public async Task StartAsync(string sandboxId, string containerId, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        await inner.StartAsync(sandboxId, containerId, cancellationToken);
        metrics.Observe(PodStartMetrics.ContainerStart, started);
    }

    public Task SignalAsync(string sandboxId, string containerId, int signal, CancellationToken cancellationToken) =>
        inner.SignalAsync(sandboxId, containerId, signal, cancellationToken);

    public Task<ContainerExit> WaitAsync(string sandboxId, string containerId, CancellationToken cancellationToken) =>
        inner.WaitAsync(sandboxId, containerId, cancellationToken);

    public Task RemoveAsync(string sandboxId, string containerId, CancellationToken cancellationToken) =>
        inner.RemoveAsync(sandboxId, containerId, cancellationToken);

    public Task<ExecResult> ExecSyncAsync(
        string sandboxId, string containerId, string execId, ReadOnlyMemory<byte> processJson, int maxOutputBytes, TimeSpan timeout, CancellationToken cancellationToken) =>
        inner.ExecSyncAsync(sandboxId, containerId, execId, processJson, maxOutputBytes, timeout, cancellationToken);

    public Task<IInteractiveProcess> ExecInteractiveAsync(
        string sandboxId, string containerId, string execId, ReadOnlyMemory<byte> processJson, bool tty, bool stdin, CancellationToken cancellationToken) =>
        inner.ExecInteractiveAsync(sandboxId, containerId, execId, processJson, tty, stdin, cancellationToken);

    public Task<IInteractiveProcess> AttachAsync(string sandboxId, string containerId, bool tty, CancellationToken cancellationToken) =>
        inner.AttachAsync(sandboxId, containerId, tty, cancellationToken);

    public Task UpdateResourcesAsync(string sandboxId, string containerId, ReadOnlyMemory<byte> resourcesJson, int onlineCpus, CancellationToken cancellationToken) =>
        inner.UpdateResourcesAsync(sandboxId, containerId, resourcesJson, onlineCpus, cancellationToken);

    public Task<IGuestLog> FollowLogAsync(string sandboxId, string containerId, uint windowBytes, CancellationToken cancellationToken) =>
        inner.FollowLogAsync(sandboxId, containerId, windowBytes, cancellationToken);

    public Task<PodUsage> StatsAsync(string sandboxId, IReadOnlyCollection<string> containerIds, CancellationToken cancellationToken) =>
        inner.StatsAsync(sandboxId, containerIds, cancellationToken);
}
