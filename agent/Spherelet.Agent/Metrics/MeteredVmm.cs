using System.Diagnostics;
using Spherelet.Domain.Vmm;

namespace Spherelet.Agent.Metrics;

/// <summary>A VMM backend whose VM starts are timed (the vm_start phase); everything else passes through.</summary>
public sealed class MeteredVmm(IVmm inner, PodStartMetrics metrics) : IVmm
{
    public string Name => inner.Name;

    public bool PlugsNic => inner.PlugsNic;

    public bool Grows => inner.Grows;

    public Task OpenAsync(CancellationToken cancellationToken) => inner.OpenAsync(cancellationToken);

    public IDisposable WatchReconnects(Action handler) => inner.WatchReconnects(handler);

    public Task<VmIdMap?> ReserveAsync(string vmName, CancellationToken cancellationToken) => inner.ReserveAsync(vmName, cancellationToken);

    public async Task<GuestEndpoint> StartAsync(VmSpec spec, Func<CancellationToken, Task>? beforeRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var started = Stopwatch.GetTimestamp();
        var endpoint = await inner.StartAsync(spec, beforeRun, cancellationToken);
        metrics.Observe(PodStartMetrics.VmStart, started);
        metrics.VmStarted(spec.Owner.SandboxId);
        return endpoint;
    }

    public Task<bool> StopAsync(string vmName, CancellationToken cancellationToken) => inner.StopAsync(vmName, cancellationToken);

    public Task DeleteAsync(string vmName, CancellationToken cancellationToken) => inner.DeleteAsync(vmName, cancellationToken);

    public Task ResizeAsync(string vmName, int virtualCpus, int memoryMiB, CancellationToken cancellationToken) =>
        inner.ResizeAsync(vmName, virtualCpus, memoryMiB, cancellationToken);

    public Task UpdateCgroupAsync(string vmName, VmCgroup cgroup, CancellationToken cancellationToken) => inner.UpdateCgroupAsync(vmName, cgroup, cancellationToken);

    public Task AttachDiskAsync(string vmName, VmDisk disk, CancellationToken cancellationToken) => inner.AttachDiskAsync(vmName, disk, cancellationToken);

    public Task DetachDiskAsync(string vmName, VmDisk disk, CancellationToken cancellationToken) => inner.DetachDiskAsync(vmName, disk, cancellationToken);

    public Task GrowHugepagesAsync(string vmName, int mebibytes, CancellationToken cancellationToken) => inner.GrowHugepagesAsync(vmName, mebibytes, cancellationToken);

    public Task<VmStatus?> InspectAsync(string vmName, CancellationToken cancellationToken) => inner.InspectAsync(vmName, cancellationToken);

    public Task<IReadOnlyList<VmStatus>> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public IDisposable WatchStops(Action<VmStopped> handler) => inner.WatchStops(handler);
}
