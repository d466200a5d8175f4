using System.Collections.Concurrent;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Vmm;

namespace Spherelet.Tests.Sandboxes;

/// <summary>An in-memory VMM for the sandbox service's unit tests (the real one is tested against libvirtd).</summary>
/// <param name="name">The backend's name: libvirt by default, the backend runtime handlers name unless they choose one.</param>
/// <param name="plugsNic">Whether it puts the NIC on the switch itself (as libvirt does) or leaves it to the network room.</param>
/// <param name="grows">Whether running VMs can be grown (libvirt) or keep their size (microvm).</param>
internal sealed class FakeVmm(string name = "libvirt", bool plugsNic = true, bool grows = true) : IVmm
{
    private readonly List<Action<VmStopped>> _watchers = [];
    private readonly List<Action> _reconnectWatchers = [];

    public ConcurrentDictionary<string, (VmSpec? Spec, VmStatus Status)> Vms { get; } = new(StringComparer.Ordinal);

    public string Name => name;

    public bool PlugsNic => plugsNic;

    public bool Grows => grows;

    public int Opened { get; private set; }

    /// <summary>What ReserveAsync gives: null (no ids mapped, as libvirt) unless set.</summary>
    public VmIdMap? IdMap { get; set; }

    public ConcurrentDictionary<string, bool> Reserved { get; } = new(StringComparer.Ordinal);

    public Task<VmIdMap?> ReserveAsync(string vmName, CancellationToken cancellationToken)
    {
        if (Vms.ContainsKey(vmName))
        {
            throw new ObjectAlreadyExistsException(vmName);
        }

        Reserved[vmName] = true;
        return Task.FromResult(IdMap);
    }

    public Task OpenAsync(CancellationToken cancellationToken)
    {
        Opened++;
        return Task.CompletedTask;
    }

    public IDisposable WatchReconnects(Action handler)
    {
        _reconnectWatchers.Add(handler);
        return new Unsubscriber(() => _reconnectWatchers.Remove(handler));
    }

    /// <summary>As if the backend had been unreachable and is back.</summary>
    public void RaiseReconnected()
    {
        foreach (var watcher in _reconnectWatchers.ToList())
        {
            watcher();
        }
    }

    public Exception? FailStart { get; set; }

    public async Task<GuestEndpoint> StartAsync(VmSpec spec, Func<CancellationToken, Task>? beforeRun, CancellationToken cancellationToken)
    {
        await CreateAndRunAsync(spec, beforeRun, cancellationToken);
        return new GuestEndpoint(spec.ChannelSocketPath);
    }

    private async Task CreateAndRunAsync(VmSpec spec, Func<CancellationToken, Task>? beforeRun, CancellationToken cancellationToken)
    {
        if (FailStart is { } failure)
        {
            throw failure;
        }

        if (beforeRun is not null)
        {
            await beforeRun(cancellationToken);
        }

        if (Vms.ContainsKey(spec.Name))
        {
            throw new ObjectAlreadyExistsException(spec.Name);
        }

        Vms[spec.Name] = (spec, new VmStatus(spec.Name, spec.Uuid, VmState.Running, spec.VirtualCpus, spec.MemoryMiB, TimeSpan.Zero, spec.Owner));
    }

    public Task ResizeAsync(string vmName, int virtualCpus, int memoryMiB, CancellationToken cancellationToken)
    {
        if (!Vms.TryGetValue(vmName, out var vm))
        {
            throw new ObjectNotFoundException(vmName);
        }

        if (virtualCpus > vm.Spec!.MaxVirtualCpus || memoryMiB > vm.Spec.MaxMemoryMiB)
        {
            throw new VmmOperationFailedException($"{vmName}: beyond its maximum");
        }

        Vms[vmName] = vm with { Status = vm.Status with { VirtualCpus = virtualCpus, MemoryMiB = memoryMiB } };
        return Task.CompletedTask;
    }

    public ConcurrentDictionary<string, List<VmDisk>> Disks { get; } = new(StringComparer.Ordinal);

    public Task AttachDiskAsync(string vmName, VmDisk disk, CancellationToken cancellationToken)
    {
        if (!Vms.ContainsKey(vmName))
        {
            throw new ObjectNotFoundException(vmName);
        }

        Disks.GetOrAdd(vmName, _ => []).Add(disk);
        return Task.CompletedTask;
    }

    public Task DetachDiskAsync(string vmName, VmDisk disk, CancellationToken cancellationToken)
    {
        if (Disks.TryGetValue(vmName, out var disks))
        {
            disks.RemoveAll(d => d.Serial == disk.Serial);
        }

        return Task.CompletedTask;
    }

    public ConcurrentDictionary<string, int> HugepagesMiB { get; } = new(StringComparer.Ordinal);

    public Task GrowHugepagesAsync(string vmName, int mebibytes, CancellationToken cancellationToken)
    {
        if (!Vms.TryGetValue(vmName, out var vm))
        {
            throw new ObjectNotFoundException(vmName);
        }

        if (mebibytes > vm.Spec!.HugepagesMaxMiB)
        {
            throw new PreconditionFailedException($"{vmName}: beyond its hugepage maximum");
        }

        HugepagesMiB[vmName] = mebibytes;
        return Task.CompletedTask;
    }

    public Task UpdateCgroupAsync(string vmName, VmCgroup cgroup, CancellationToken cancellationToken)
    {
        if (!Vms.TryGetValue(vmName, out var vm))
        {
            throw new ObjectNotFoundException(vmName);
        }

        Vms[vmName] = vm with { Spec = vm.Spec! with { Cgroup = cgroup } };
        return Task.CompletedTask;
    }

    public Task<bool> StopAsync(string vmName, CancellationToken cancellationToken)
    {
        if (Vms.TryGetValue(vmName, out var vm) && vm.Status.State == VmState.Running)
        {
            Vms[vmName] = vm with { Status = vm.Status with { State = VmState.Stopped } };
            return Task.FromResult(true);
        }

        return Task.FromResult(false);
    }

    public Task DeleteAsync(string vmName, CancellationToken cancellationToken)
    {
        Vms.TryRemove(vmName, out _);
        Reserved.TryRemove(vmName, out _);
        return Task.CompletedTask;
    }

    public Task<VmStatus?> InspectAsync(string vmName, CancellationToken cancellationToken) =>
        Task.FromResult(Vms.TryGetValue(vmName, out var vm) ? vm.Status : null);

    public Task<IReadOnlyList<VmStatus>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<VmStatus>>(Vms.Values.Select(v => v.Status).ToList());

    public IDisposable WatchStops(Action<VmStopped> handler)
    {
        _watchers.Add(handler);
        return new NoopDisposable();
    }

    /// <summary>A VM stops outside Spherelet (virsh destroy).</summary>
    public void DestroyOutside(string vmName)
    {
        var vm = Vms[vmName];
        Vms[vmName] = vm with { Status = vm.Status with { State = VmState.Stopped } };
        foreach (var watcher in _watchers)
        {
            watcher(new VmStopped(vmName, "destroyed"));
        }
    }
}
