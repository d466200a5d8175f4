using System.Collections.Concurrent;
using System.Text;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Errors;

namespace Spherelet.Tests.Containers;

/// <summary>
/// Containers kept in memory as CRX would keep them, for the container service's unit tests
/// (the real CRX is tested in VMs): processes "run" until signalled or told to exit.
/// </summary>
internal sealed class FakeGuestContainers : IGuestContainers
{
    public ConcurrentDictionary<string, FakeProcess> Containers { get; } = new(StringComparer.Ordinal);

    public List<(string ContainerId, int Signal)> Signals { get; } = [];

    public Exception? FailCreate { get; set; }

    /// <summary>Signals the fake processes die of; others are ignored (like a shell that traps them).</summary>
    public HashSet<int> DeadlySignals { get; } = [9, 15];

    public bool Unreachable { get; set; }

    public string? LastExecProcess { get; private set; }

    public Func<IReadOnlyList<string>, ExecResult>? OnExec { get; set; }

    public List<(string ContainerId, bool Tty, bool Stdin, bool Attach)> Sessions { get; } = [];

    public Task<IInteractiveProcess> ExecInteractiveAsync(
        string sandboxId, string containerId, string execId, ReadOnlyMemory<byte> processJson, bool tty, bool stdin, CancellationToken cancellationToken)
    {
        Reachable();
        LastExecProcess = Encoding.UTF8.GetString(processJson.Span);
        Sessions.Add((containerId, tty, stdin, false));
        return Task.FromResult<IInteractiveProcess>(new FakeInteractiveProcess(tty));
    }

    public Task<IInteractiveProcess> AttachAsync(string sandboxId, string containerId, bool tty, CancellationToken cancellationToken)
    {
        Reachable();
        Sessions.Add((containerId, tty, false, true));
        return Task.FromResult<IInteractiveProcess>(new FakeInteractiveProcess(tty));
    }

    public Task<int> CreateAsync(string sandboxId, GuestContainerCreate create, CancellationToken cancellationToken)
    {
        Reachable();
        if (FailCreate is { } failure)
        {
            throw failure;
        }

        Containers[create.ContainerId] = new FakeProcess(create);
        return Task.FromResult(4242);
    }

    public Task StartAsync(string sandboxId, string containerId, CancellationToken cancellationToken)
    {
        Reachable();
        Find(containerId).Started = true;
        return Task.CompletedTask;
    }

    public Task SignalAsync(string sandboxId, string containerId, int signal, CancellationToken cancellationToken)
    {
        Reachable();
        lock (Signals)
        {
            Signals.Add((containerId, signal));
        }

        if (DeadlySignals.Contains(signal))
        {
            Find(containerId).Exit(128 + signal, signal);
        }

        return Task.CompletedTask;
    }

    public async Task<ContainerExit> WaitAsync(string sandboxId, string containerId, CancellationToken cancellationToken)
    {
        Reachable();
        return await Find(containerId).Exited.Task.WaitAsync(cancellationToken);
    }

    public Task RemoveAsync(string sandboxId, string containerId, CancellationToken cancellationToken)
    {
        Reachable();
        if (Containers.TryRemove(containerId, out var process))
        {
            process.Exit(137, 9);
        }

        return Task.CompletedTask;
    }

    public Task<ExecResult> ExecSyncAsync(
        string sandboxId, string containerId, string execId, ReadOnlyMemory<byte> processJson, int maxOutputBytes, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Reachable();
        LastExecProcess = Encoding.UTF8.GetString(processJson.Span);
        var args = System.Text.Json.JsonDocument.Parse(LastExecProcess).RootElement.GetProperty("args").EnumerateArray().Select(a => a.GetString()!).ToList();
        return Task.FromResult(OnExec?.Invoke(args) ?? new ExecResult([], [], 0, false));
    }

    public int OnlineCpus { get; private set; }

    public Task UpdateResourcesAsync(string sandboxId, string containerId, ReadOnlyMemory<byte> resourcesJson, int onlineCpus, CancellationToken cancellationToken)
    {
        Reachable();
        Find(containerId).Resources = Encoding.UTF8.GetString(resourcesJson.Span);
        OnlineCpus = onlineCpus;
        return Task.CompletedTask;
    }

    public Task<IGuestLog> FollowLogAsync(string sandboxId, string containerId, uint windowBytes, CancellationToken cancellationToken)
    {
        Reachable();
        var log = Find(containerId).Log;
        log.Follows++;
        return Task.FromResult<IGuestLog>(log);
    }

    /// <summary>How the guest answers statistics: null, at once; else this (a failure, or a wait for cancellation).</summary>
    public Func<CancellationToken, Task>? OnStats { get; set; }

    public async Task<PodUsage> StatsAsync(string sandboxId, IReadOnlyCollection<string> containerIds, CancellationToken cancellationToken)
    {
        Reachable();
        if (OnStats is { } onStats)
        {
            await onStats(cancellationToken);
        }

        var usage = new ResourceUsage(1000, 2000, 1500, 3, 42, 4096, 2);
        return new PodUsage(
            usage,
            256 << 20,
            Containers.Keys.Where(id => containerIds.Count == 0 || containerIds.Contains(id)).ToDictionary(id => id, _ => usage, StringComparer.Ordinal));
    }

    private FakeProcess Find(string containerId) =>
        Containers.TryGetValue(containerId, out var process) ? process : throw new ObjectNotFoundException($"container {containerId} does not exist");

    private void Reachable()
    {
        if (Unreachable)
        {
            throw new GuestUnavailableException("the guest is unreachable");
        }
    }
}
