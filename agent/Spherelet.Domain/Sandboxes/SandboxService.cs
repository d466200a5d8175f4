using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Events;
using Spherelet.Domain.Runtime;
using Spherelet.Domain.Vmm;

namespace Spherelet.Domain.Sandboxes;

/// <summary>
/// Pod sandboxes as VMs: RunPodSandbox, StopPodSandbox, RemovePodSandbox, status, list,
/// the reaction to VMs that stop on their own, and recovery at start. See
/// <see cref="SandboxState"/> for the state machine.
/// </summary>
public sealed partial class SandboxService
{
    private readonly VmmRegistry _vmms;
    private readonly IRecoveryMeter? _recoveryMeter;
    private readonly GuestEndpoints _endpoints;
    private readonly IPodGuests _guests;
    private readonly IPodShares _shares;
    private readonly IPodNetwork _network;
    private readonly SandboxStore _store;
    private readonly ISandboxCheckpointStore _checkpoints;
    private readonly NameRegistrar _names;
    private readonly RuntimeHandlerCatalog _handlers;
    private readonly SandboxLayout _layout;
    private readonly RuntimeReadiness _readiness;
    private readonly SandboxServiceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SandboxService> _logger;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _operations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _stopping = new(StringComparer.Ordinal);

    public SandboxService(
        VmmRegistry vmms,
        GuestEndpoints endpoints,
        IPodGuests guests,
        IPodShares shares,
        IPodNetwork network,
        ISandboxCheckpointStore checkpoints,
        RuntimeHandlerCatalog handlers,
        SandboxLayout layout,
        RuntimeReadiness readiness,
        SandboxServiceOptions options,
        TimeProvider time,
        ILogger<SandboxService> logger,
        IRecoveryMeter? recoveryMeter = null)
    {
        _recoveryMeter = recoveryMeter;
        _vmms = vmms;
        _endpoints = endpoints;
        _guests = guests;
        _shares = shares;
        _network = network;
        _checkpoints = checkpoints;
        _store = new SandboxStore(checkpoints);
        _names = new NameRegistrar();
        _handlers = handlers;
        _layout = layout;
        _readiness = readiness;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public RuntimeHandlerCatalog Handlers => _handlers;

    /// <summary>Where sandboxes keep their files (the pod share, the CRX channel socket).</summary>
    public SandboxLayout Layout => _layout;

    /// <summary>
    /// A sandbox turned NOTREADY (stopped, its VM stopped or was gone at recovery): its
    /// containers are no more. Raised with the sandbox's id after the change is checkpointed.
    /// </summary>
    public event Action<string>? SandboxStopped;

    /// <summary>
    /// Raised after each change of a sandbox's state (created and started when READY, stopped,
    /// removed), with the sandbox as it is then (as it was last, for a removal). Handlers must neither block nor throw.
    /// </summary>
    public event Action<PodSandbox, PodEventType>? SandboxChanged;

    private void RaiseSandbox(string id, PodEventType type)
    {
        if (_store.Find(id) is { } sandbox)
        {
            RaiseSandbox(sandbox, type);
        }
    }

    private void RaiseSandbox(PodSandbox sandbox, PodEventType type) => SandboxChanged?.Invoke(sandbox, type);

    /// <summary>A sandbox by full id, also while recovery runs; null when there is none.</summary>
    public PodSandbox? Find(string id) => _store.Find(id);

    /// <summary>Every sandbox as it is now, whatever the runtime's readiness (for metrics and events).</summary>
    public IReadOnlyList<PodSandbox> Snapshot() => _store.List(SandboxFilter.All);

    /// <summary>A sandbox by id or unique id prefix.</summary>
    /// <exception cref="ObjectNotFoundException">No such sandbox.</exception>
    public PodSandbox Get(string idOrPrefix)
    {
        _readiness.EnsureReady();
        return _store.Get(idOrPrefix);
    }

    /// <summary>A sandbox that is ready (its VM runs and its guest answers), by id or unique id prefix.</summary>
    /// <exception cref="ObjectNotFoundException">No such sandbox.</exception>
    /// <exception cref="PreconditionFailedException">The pod is not ready.</exception>
    public PodSandbox GetReady(string idOrPrefix)
    {
        var sandbox = Get(idOrPrefix);
        return sandbox.State == SandboxState.Ready
            ? sandbox
            : throw new PreconditionFailedException($"pod sandbox {sandbox.Id} is not ready ({sandbox.StateReason})");
    }

    /// <summary>A TCP connection to <paramref name="port"/> on the pod VM's loopback (its network).</summary>
    public Task<IPodPortConnection> OpenPortAsync(string sandboxId, int port, CancellationToken cancellationToken)
    {
        var sandbox = GetReady(sandboxId);
        return _guests.OpenPortAsync(sandbox.Id, port, cancellationToken);
    }

    /// <summary>Boots the pod's VM and returns the new sandbox's id once CRX has answered and taken the settings.</summary>
    public async Task<string> RunAsync(RunPodSandboxCommand command, CancellationToken cancellationToken)
    {
        _readiness.EnsureReady();
        var metadata = SandboxRequestValidator.Validate(command);
        SandboxRequestValidator.ValidateCgroupParent(command.CgroupParent, _options.CgroupDriver);
        var handler = _handlers.Resolve(command.RuntimeHandler);
        var vmm = _vmms.Get(handler.Vmm);
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var key = metadata.ReservationKey;
        _names.Reserve(key, id);
        var started = Stopwatch.GetTimestamp();
        var undo = new RollbackSteps();
        var vmName = SandboxLayout.VmName(id);
        try
        {
            var (cpus, memory) = Size(handler, command);
            var hostname = command.Hostname.Length > 0 ? command.Hostname : DefaultHostname(metadata.Name);
            var idMap = await vmm.ReserveAsync(vmName, cancellationToken);
            undo.Push("vm reservation", () => vmm.DeleteAsync(vmName, CancellationToken.None));
            await _shares.CreateAsync(id, idMap, cancellationToken);
            undo.Push("pod directory", () => _shares.RemoveAsync(id));
            if (command.LogDirectory.Length > 0)
            {
                // The kubelet reads container logs there; the agent writes them (the VM never sees it).
                Directory.CreateDirectory(command.LogDirectory);
            }

            Directory.CreateDirectory(_layout.VmDirectory(vmName));
            undo.Push("vm directory", () => DeleteDirectoryAsync(_layout.VmDirectory(vmName)));

            var network = await _network.AttachAsync(id, metadata, command.PortMappings, cancellationToken);
            if (network is not null)
            {
                undo.Push("pod network", () => _network.DetachAsync(id, CancellationToken.None));
            }

            var socket = _layout.ChannelSocket(vmName);
            var spec = new VmSpec
            {
                Name = vmName,
                Uuid = Guid.NewGuid(),
                Owner = new VmOwner(id, metadata.Namespace, metadata.Name, metadata.Uid, metadata.Attempt),
                VirtualCpus = cpus,
                MemoryMiB = memory,
                MaxVirtualCpus = vmm.Grows ? Math.Max(cpus, handler.MaxVirtualCpus) : cpus,
                MaxMemoryMiB = vmm.Grows ? Math.Max(memory, handler.MaxMemoryMiB) : memory,
                KernelPath = handler.KernelPath,
                InitramfsPath = handler.InitramfsPath,
                KernelCommandLine = KernelCommandLine(),
                ShareDirectory = _layout.Share(id),
                ShareTag = ShareTag,
                ChannelSocketPath = socket,
                ChannelName = _options.ChannelName,
                ConsoleLogPath = _layout.ConsoleLog(id),
                IdMap = idMap,
                Cgroup = Cgroup(command),
                BlockDeviceSlots = handler.BlockDeviceSlots,
                HugepagesMaxMiB = handler.HugepagesMaxMiB,
                Nic = network is null ? null : new VmNic(network.Bridge, network.PortName, network.Mac, network.Vlan, network.InterfaceId, network.Mtu, network.ChecksumOffload),
            };
            var endpoint = await vmm.StartAsync(spec, network is null ? null : ct => PrepareNicAsync(vmm, id, network, ct), cancellationToken);
            undo.Push("vm", () => vmm.DeleteAsync(vmName, CancellationToken.None));
            _endpoints.Register(id, endpoint);
            undo.Push("guest endpoint", () =>
            {
                _endpoints.Remove(id);
                return Task.CompletedTask;
            });
            LogVmStarted(id, vmName, cpus, memory, handler.Name, vmm.Name);

            var guest = await _guests.ConnectAsync(id, cancellationToken);
            undo.Push("guest channel", () => _guests.CloseAsync(id));
            if (network is not null)
            {
                await _network.LabelPortAsync(id, metadata, network, cancellationToken);
            }

            await _guests.ConfigureAsync(id, new GuestSandboxSettings(hostname, command.Dns, command.Sysctls, network), cancellationToken);

            var sandbox = new PodSandbox
            {
                Id = id,
                Metadata = metadata,
                Labels = new Dictionary<string, string>(command.Labels, StringComparer.Ordinal),
                Annotations = new Dictionary<string, string>(command.Annotations, StringComparer.Ordinal),
                RuntimeHandler = handler.Name,
                CreatedAt = UnixNanos(),
                State = SandboxState.Ready,
                VmName = vmName,
                Vmm = vmm.Name,
                GuestEndpoint = endpoint,
                IdMap = idMap,
                VmUuid = spec.Uuid,
                VirtualCpus = cpus,
                MemoryMiB = memory,
                MaxVirtualCpus = spec.MaxVirtualCpus,
                MaxMemoryMiB = spec.MaxMemoryMiB,
                Cgroup = spec.Cgroup,
                BlockDeviceSlots = spec.BlockDeviceSlots,
                Hostname = hostname,
                Dns = command.Dns,
                LogDirectory = command.LogDirectory,
                Network = network,
                Guest = guest,
            };
            await _store.AddAsync(sandbox, cancellationToken);
            var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LogSandboxReady(id, metadata.Namespace, metadata.Name, vmName, elapsedMs, guest.BootToReadyMs);
            RaiseSandbox(sandbox, PodEventType.Created);
            RaiseSandbox(sandbox, PodEventType.Started);
            return id;
        }
        catch (Exception e)
        {
            var failures = await undo.UndoAllAsync();
            if (failures.Count == 0)
            {
                _names.Release(key, id);
                LogRunFailed(metadata.Namespace, metadata.Name, e.Message);
            }
            else
            {
                // What could not be undone stays visible as a NOTREADY sandbox that RemovePodSandbox cleans up.
                LogRunCleanupFailed(id, metadata.Namespace, metadata.Name, e.Message, string.Join("; ", failures));
                await KeepAsNotReadyAsync(id, metadata, handler, vmName, command, $"RunPodSandbox failed ({e.Message}); cleanup incomplete: {string.Join("; ", failures)}");
            }

            throw;
        }
    }

    /// <summary>
    /// Stops the pod's VM (the guest is asked to power off first). Stopping a stopped sandbox, or
    /// one that does not exist, does nothing (CRI: StopPodSandbox is idempotent).
    /// </summary>
    public async Task StopAsync(string idOrPrefix, CancellationToken cancellationToken)
    {
        _readiness.EnsureReady();
        if (_store.FindByIdOrPrefix(idOrPrefix) is not { Id: var id })
        {
            return;
        }

        var gate = _operations.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (_store.Find(id) is { } sandbox)
            {
                await StopLockedAsync(sandbox, "stopped", cancellationToken);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Stops the sandbox if it runs, deletes its VM, files and checkpoint. Removing an unknown sandbox succeeds.</summary>
    public async Task RemoveAsync(string idOrPrefix, CancellationToken cancellationToken)
    {
        _readiness.EnsureReady();
        if (_store.FindByIdOrPrefix(idOrPrefix) is not { Id: var id })
        {
            return;
        }

        var gate = _operations.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (_store.Find(id) is not { } sandbox)
            {
                return;
            }

            await StopLockedAsync(sandbox, "removed", cancellationToken);
            await _vmms.Get(sandbox.Vmm).DeleteAsync(sandbox.VmName, cancellationToken);
            await _network.DetachAsync(id, cancellationToken);
            var removed = _store.Find(id) ?? sandbox;
            await _store.RemoveAsync(id, cancellationToken);
            await DeleteDirectoryAsync(_layout.VmDirectory(sandbox.VmName));
            _endpoints.Remove(id);
            await _shares.RemoveAsync(id);
            _names.Release(sandbox.Metadata.ReservationKey, id);
            LogSandboxRemoved(id, sandbox.Metadata.Namespace, sandbox.Metadata.Name);
            RaiseSandbox(removed, PodEventType.Deleted);
        }
        finally
        {
            gate.Release();
        }

        _operations.TryRemove(id, out _);
    }

    /// <summary>The sandbox and its VM as the VMM sees it now.</summary>
    public async Task<SandboxStatus> StatusAsync(string idOrPrefix, CancellationToken cancellationToken)
    {
        _readiness.EnsureReady();
        var sandbox = _store.Get(idOrPrefix);
        var vm = _vmms.Find(sandbox.Vmm) is { } vmm ? await vmm.InspectAsync(sandbox.VmName, cancellationToken) : null;
        return new SandboxStatus(sandbox, vm, sandbox.Vmm);
    }

    public IReadOnlyList<PodSandbox> List(SandboxFilter filter)
    {
        _readiness.EnsureReady();
        return _store.List(filter);
    }

    /// <summary>
    /// Gives a READY sandbox's VM at least <paramref name="mebibytes"/> of memory backed by 2 MiB host
    /// hugepages (for the guest to make the pod's hugepages of); it never shrinks.
    /// </summary>
    /// <exception cref="PreconditionFailedException">Not READY, or the VMM cannot (no host hugepages, too few free, beyond the VM's maximum).</exception>
    public async Task<PodSandbox> GrowHugepagesAsync(string id, int mebibytes, CancellationToken cancellationToken)
    {
        _readiness.EnsureReady();
        var gate = _operations.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var sandbox = _store.Get(id);
            if (mebibytes <= sandbox.HugepagesMiB)
            {
                return sandbox;
            }

            if (sandbox.State != SandboxState.Ready)
            {
                throw new PreconditionFailedException($"pod sandbox {id} is not ready: its VM cannot be given hugepages");
            }

            if (!_handlers.TryResolve(sandbox.RuntimeHandler, out var handler) || handler.HugepagesMaxMiB == 0)
            {
                throw new PreconditionFailedException(
                    $"pod sandbox {id}: runtime handler '{sandbox.RuntimeHandler}' gives its VMs no hugepages (set RuntimeHandlers:{sandbox.RuntimeHandler}:HugepagesMaxMiB, or run the pod with a RuntimeClass whose handler does)");
            }

            await _vmms.Get(sandbox.Vmm).GrowHugepagesAsync(sandbox.VmName, mebibytes, cancellationToken);
            var grown = await _store.UpdateAsync(id, s => s with { HugepagesMiB = mebibytes }, CancellationToken.None);
            LogHugepagesGrown(id, sandbox.VmName, sandbox.HugepagesMiB, mebibytes);
            return grown;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Gives a READY sandbox's VM the host block device <paramref name="hostPath"/> for container
    /// <paramref name="containerId"/>: hot-plugged once per pod, shared by the containers that use it.
    /// </summary>
    /// <returns>The disk (its serial is how the guest finds it).</returns>
    /// <exception cref="PreconditionFailedException">Not READY, no free slot, or held read-only and now asked writable.</exception>
    public async Task<VmDisk> AttachDiskAsync(string id, string hostPath, bool readOnly, string containerId, CancellationToken cancellationToken)
    {
        _readiness.EnsureReady();
        var gate = _operations.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var sandbox = _store.Get(id);
            if (sandbox.State != SandboxState.Ready)
            {
                throw new PreconditionFailedException($"pod sandbox {id} is not ready: its VM cannot be given {hostPath}");
            }

            if (sandbox.Disks.FirstOrDefault(d => d.Disk.HostPath == hostPath) is { } held)
            {
                if (held.Disk.ReadOnly && !readOnly)
                {
                    throw new PreconditionFailedException($"block device {hostPath} is in pod sandbox {id} read-only already: it cannot be given writable too");
                }

                await _store.UpdateAsync(id, s => s with { Disks = [.. s.Disks.Select(d => d.Disk.HostPath == hostPath ? d with { Users = [.. d.Users, containerId] } : d)] }, CancellationToken.None);
                return held.Disk;
            }

            if (sandbox.Disks.Count >= sandbox.BlockDeviceSlots)
            {
                throw new PreconditionFailedException(
                    $"pod sandbox {id} holds {sandbox.Disks.Count} block devices, all its VM has slots for (RuntimeHandlers:{sandbox.RuntimeHandler}:BlockDeviceSlots)");
            }

            var target = Enumerable.Range(0, 24).Select(n => "vd" + (char)('b' + n)).First(t => sandbox.Disks.All(d => d.Disk.Target != t));
            var disk = new VmDisk(hostPath, "sph" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8)), target, readOnly);
            await _vmms.Get(sandbox.Vmm).AttachDiskAsync(sandbox.VmName, disk, cancellationToken);
            await _store.UpdateAsync(id, s => s with { Disks = [.. s.Disks, new PodDisk(disk, [containerId])] }, CancellationToken.None);
            LogDiskAttached(id, sandbox.VmName, hostPath, disk.Serial, readOnly);
            return disk;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Container <paramref name="containerId"/> no longer uses <paramref name="hostPath"/>; the last user's release unplugs it.</summary>
    public async Task ReleaseDiskAsync(string id, string hostPath, string containerId, CancellationToken cancellationToken)
    {
        var gate = _operations.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (_store.Find(id) is not { } sandbox || sandbox.Disks.FirstOrDefault(d => d.Disk.HostPath == hostPath) is not { } held)
            {
                return;
            }

            var users = held.Users.Where(u => u != containerId).ToList();
            if (users.Count == 0 && sandbox.State == SandboxState.Ready)
            {
                await _vmms.Get(sandbox.Vmm).DetachDiskAsync(sandbox.VmName, held.Disk, cancellationToken);
                LogDiskDetached(id, sandbox.VmName, hostPath, held.Disk.Serial);
            }

            await _store.UpdateAsync(
                id,
                s => s with { Disks = users.Count == 0 ? [.. s.Disks.Where(d => d.Disk.HostPath != hostPath)] : [.. s.Disks.Select(d => d.Disk.HostPath == hostPath ? d with { Users = users } : d)] },
                CancellationToken.None);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Binds a READY sandbox's VM to <paramref name="cpuset"/> on the host (its cgroup under the pod's
    /// cgroup_parent). Only a VM placed under a pod cgroup can be bound.
    /// </summary>
    /// <exception cref="InvalidRequestException">The pod has no cgroup_parent.</exception>
    /// <exception cref="PreconditionFailedException">The sandbox is not READY.</exception>
    public async Task<PodSandbox> PinAsync(string id, Containers.HostCpuset cpuset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(cpuset);
        _readiness.EnsureReady();
        var gate = _operations.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var sandbox = _store.Get(id);
            if (sandbox.Cgroup is not { } cgroup)
            {
                if (cpuset.IsAny)
                {
                    return sandbox;
                }

                throw new InvalidRequestException(
                    $"cpuset_cpus '{cpuset.Cpus}' / cpuset_mems '{cpuset.Mems}' bind the pod's VM on the host, which needs the pod sandbox's linux.cgroup_parent (the kubelet always sends one)");
            }

            if (cgroup.CpusetCpus == cpuset.Cpus && cgroup.CpusetMems == cpuset.Mems)
            {
                return sandbox;
            }

            if (sandbox.State != SandboxState.Ready)
            {
                throw new PreconditionFailedException($"pod sandbox {id} is not ready: its VM cannot be bound to host CPUs");
            }

            var pinned = cgroup with { CpusetCpus = cpuset.Cpus, CpusetMems = cpuset.Mems };
            await _vmms.Get(sandbox.Vmm).UpdateCgroupAsync(sandbox.VmName, pinned, cancellationToken);
            var updated = await _store.UpdateAsync(id, s => s with { Cgroup = pinned }, CancellationToken.None);
            LogVmPinned(id, sandbox.VmName, cpuset.Cpus, cpuset.Mems);
            return updated;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Whether the sandbox's backend can grow its running VM (<see cref="GrowAsync"/>); a microvm keeps the size it started with.</summary>
    public bool CanGrow(PodSandbox sandbox) => _vmms.Find(sandbox.Vmm)?.Grows ?? false;

    /// <summary>
    /// Grows a READY sandbox's VM to at least <paramref name="virtualCpus"/> vCPUs and
    /// <paramref name="memoryMiB"/> of memory (it never shrinks), within the maximum it was made with.
    /// </summary>
    /// <returns>The sandbox as it is afterwards.</returns>
    /// <exception cref="PreconditionFailedException">The sandbox is not READY, or the size is beyond its VM's maximum.</exception>
    public async Task<PodSandbox> GrowAsync(string id, int virtualCpus, int memoryMiB, CancellationToken cancellationToken)
    {
        _readiness.EnsureReady();
        var gate = _operations.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var sandbox = _store.Get(id);
            var cpus = Math.Max(sandbox.VirtualCpus, virtualCpus);
            var memory = Math.Max(sandbox.MemoryMiB, memoryMiB);
            if (cpus == sandbox.VirtualCpus && memory == sandbox.MemoryMiB)
            {
                return sandbox;
            }

            if (sandbox.State != SandboxState.Ready)
            {
                throw new PreconditionFailedException($"pod sandbox {id} is not ready: its VM cannot grow");
            }

            if (cpus > Math.Max(sandbox.MaxVirtualCpus, sandbox.VirtualCpus) || memory > Math.Max(sandbox.MaxMemoryMiB, sandbox.MemoryMiB))
            {
                throw new PreconditionFailedException(
                    $"pod sandbox {id} would need {cpus} vCPUs and {memory} MiB, beyond its VM's maximum of {Math.Max(sandbox.MaxVirtualCpus, sandbox.VirtualCpus)} vCPUs and {Math.Max(sandbox.MaxMemoryMiB, sandbox.MemoryMiB)} MiB (RuntimeHandlers:{sandbox.RuntimeHandler}:MaxVirtualCpus, MaxMemoryMiB)");
            }

            await _vmms.Get(sandbox.Vmm).ResizeAsync(sandbox.VmName, cpus, memory, cancellationToken);
            var grown = await _store.UpdateAsync(id, s => s with { VirtualCpus = cpus, MemoryMiB = memory }, CancellationToken.None);
            LogVmGrown(id, sandbox.VmName, sandbox.VirtualCpus, cpus, sandbox.MemoryMiB, memory);
            return grown;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>A VM stopped outside a Stop or Remove (destroyed, crashed, powered off): its sandbox becomes NOTREADY.</summary>
    public async Task OnVmStoppedAsync(VmStopped stopped)
    {
        ArgumentNullException.ThrowIfNull(stopped);
        if (_store.FindByVmName(stopped.Name) is not { State: SandboxState.Ready } sandbox || _stopping.ContainsKey(sandbox.Id))
        {
            return;
        }

        await _guests.CloseAsync(sandbox.Id);
        await _store.UpdateAsync(
            sandbox.Id,
            s => s.State == SandboxState.Ready ? s with { State = SandboxState.NotReady, StateReason = "vm stopped: " + stopped.Reason } : s,
            CancellationToken.None);
        LogVmStoppedOutside(sandbox.Id, stopped.Name, stopped.Reason);
        SandboxStopped?.Invoke(sandbox.Id);
        RaiseSandbox(sandbox.Id, PodEventType.Stopped);
    }

    /// <summary>The VMM was unreachable for a while (its events may be lost): every READY sandbox whose VM no longer runs becomes NOTREADY.</summary>
    public async Task ResyncAsync(CancellationToken cancellationToken)
    {
        foreach (var sandbox in _store.List(new SandboxFilter(null, SandboxState.Ready, null)))
        {
            if (_stopping.ContainsKey(sandbox.Id))
            {
                continue;
            }

            var vm = _vmms.Find(sandbox.Vmm) is { } vmm ? await vmm.InspectAsync(sandbox.VmName, cancellationToken) : null;
            if (vm is not { State: VmState.Running or VmState.Paused })
            {
                await _guests.CloseAsync(sandbox.Id);
                await MarkNotReadyAsync(sandbox.Id, vm is null ? "vm gone while the VMM was unreachable" : "vm stopped while the VMM was unreachable");
            }
        }
    }

    /// <summary>
    /// At start: reloads every checkpoint, destroys Spherelet VMs that have none (leftovers),
    /// removes files no sandbox owns, turns sandboxes whose VM is gone NOTREADY, reconnects to
    /// every running guest, then opens the readiness gate.
    /// </summary>
    /// <param name="beforeReady">Runs once the sandboxes are recovered and before the gate opens (the containers' recovery).</param>
    public async Task RecoverAsync(CancellationToken cancellationToken, Func<CancellationToken, Task>? beforeReady = null)
    {
        var started = Stopwatch.GetTimestamp();
        var (sandboxes, problems) = await _checkpoints.LoadAllAsync(cancellationToken);
        foreach (var problem in problems)
        {
            LogCheckpointProblem(problem);
        }

        foreach (var sandbox in sandboxes)
        {
            _store.Restore(sandbox);
            _shares.Adopt(sandbox.Id, sandbox.IdMap);
            try
            {
                _names.Reserve(sandbox.Metadata.ReservationKey, sandbox.Id);
            }
            catch (ObjectAlreadyExistsException e)
            {
                LogCheckpointProblem($"sandbox {sandbox.Id}: {e.Message}");
            }
        }

        // A VM is the sandbox's only when the backend the sandbox names runs it; any other is a leftover.
        var vms = new List<VmStatus>();
        foreach (var vmm in _vmms.All)
        {
            var owned = sandboxes.Where(s => s.Vmm == vmm.Name).Select(s => s.VmName).ToHashSet(StringComparer.Ordinal);
            foreach (var vm in await vmm.ListAsync(cancellationToken))
            {
                if (owned.Contains(vm.Name))
                {
                    vms.Add(vm);
                    continue;
                }

                LogLeftoverVm(vm.Name, vm.Owner?.SandboxId ?? string.Empty, vmm.Name);
                await vmm.DeleteAsync(vm.Name, cancellationToken);
                _recoveryMeter?.Removed(LeftoverKind.Vm);
            }
        }

        var ownedVms = sandboxes.Select(s => s.VmName).ToHashSet(StringComparer.Ordinal);

        // Each pod's CRX is where its backend said when it started the VM (a checkpoint of an older
        // agent has none: there both backends served it in the VM's run directory).
        foreach (var sandbox in sandboxes)
        {
            _endpoints.Register(sandbox.Id, sandbox.GuestEndpoint ?? new GuestEndpoint(_layout.ChannelSocket(sandbox.VmName)));
        }

        // A pod directory with a checkpoint this agent cannot read is left for the operator.
        await RemoveUnownedAsync(
            _layout.PodsDirectory, name => sandboxes.Any(s => s.Id == name) || File.Exists(_layout.Checkpoint(name)), _shares.RemoveAsync, LeftoverKind.PodDirectory);
        await RemoveUnownedAsync(_layout.VmsDirectory, ownedVms.Contains, name => DeleteDirectoryAsync(_layout.VmDirectory(name)), LeftoverKind.VmDirectory);
        await _network.RecoverAsync(sandboxes.Select(s => s.Id).ToHashSet(StringComparer.Ordinal), cancellationToken);

        var reconnected = 0;
        await Task.WhenAll(sandboxes.Where(s => s.State == SandboxState.Ready).Select(async sandbox =>
        {
            if (!_vmms.Contains(sandbox.Vmm))
            {
                await MarkNotReadyAsync(sandbox.Id, $"no runtime handler runs VMM backend '{sandbox.Vmm}' any more");
                return;
            }

            var vm = vms.FirstOrDefault(v => v.Name == sandbox.VmName);
            if (vm is not { State: VmState.Running })
            {
                await MarkNotReadyAsync(sandbox.Id, vm is null ? "vm gone while the agent was down" : $"vm {vm.State.ToString().ToLowerInvariant()} while the agent was down");
                return;
            }

            try
            {
                await _guests.ConnectAsync(sandbox.Id, cancellationToken);
                Interlocked.Increment(ref reconnected);
            }
            catch (SphereletException e)
            {
                await MarkNotReadyAsync(sandbox.Id, "guest did not answer after the agent restarted: " + e.Message);
            }
        }));

        if (beforeReady is not null)
        {
            await beforeReady(cancellationToken);
        }

        _readiness.MarkReady();
        var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogRecovered(sandboxes.Count, reconnected, elapsedMs);
    }

    private async Task StopLockedAsync(PodSandbox sandbox, string reason, CancellationToken cancellationToken)
    {
        _stopping[sandbox.Id] = true;
        try
        {
            var vmm = _vmms.Find(sandbox.Vmm);
            var vm = vmm is null ? null : await vmm.InspectAsync(sandbox.VmName, cancellationToken);
            if (vmm is not null && vm is { State: VmState.Running or VmState.Paused })
            {
                await ShutdownGuestAsync(sandbox, vmm, cancellationToken);
                await vmm.StopAsync(sandbox.VmName, cancellationToken);
            }

            await _guests.CloseAsync(sandbox.Id);
            if (sandbox.State == SandboxState.Ready)
            {
                await _store.UpdateAsync(
                    sandbox.Id,
                    s => s.State == SandboxState.Ready ? s with { State = SandboxState.NotReady, StateReason = reason } : s,
                    cancellationToken);
                LogSandboxStopped(sandbox.Id, sandbox.Metadata.Namespace, sandbox.Metadata.Name);
                SandboxStopped?.Invoke(sandbox.Id);
                RaiseSandbox(sandbox.Id, PodEventType.Stopped);
            }
        }
        finally
        {
            _stopping.TryRemove(sandbox.Id, out _);
        }
    }

    /// <summary>Asks CRX to power the VM off and waits up to the grace period for the VM to stop.</summary>
    private async Task ShutdownGuestAsync(PodSandbox sandbox, IVmm vmm, CancellationToken cancellationToken)
    {
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(_options.ShutdownGrace);
        try
        {
            await _guests.ShutdownAsync(sandbox.Id, grace.Token);
            while (await vmm.InspectAsync(sandbox.VmName, grace.Token) is { State: VmState.Running or VmState.Paused })
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), grace.Token);
            }
        }
        catch (Exception e) when (e is SphereletException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogShutdownNotClean(sandbox.Id, e.Message);
        }
    }

    private async Task MarkNotReadyAsync(string id, string reason)
    {
        await _store.UpdateAsync(id, s => s with { State = SandboxState.NotReady, StateReason = reason }, CancellationToken.None);
        LogMarkedNotReady(id, reason);
        SandboxStopped?.Invoke(id);
        RaiseSandbox(id, PodEventType.Stopped);
    }

    private async Task KeepAsNotReadyAsync(
        string id, PodSandboxMetadata metadata, RuntimeHandler handler, string vmName, RunPodSandboxCommand command, string reason)
    {
        try
        {
            await _store.AddAsync(
                new PodSandbox
                {
                    Id = id,
                    Metadata = metadata,
                    Labels = command.Labels,
                    Annotations = command.Annotations,
                    RuntimeHandler = handler.Name,
                    CreatedAt = UnixNanos(),
                    State = SandboxState.NotReady,
                    StateReason = reason,
                    VmName = vmName,
                    Vmm = handler.Vmm,
                    VmUuid = Guid.Empty,
                    VirtualCpus = 0,
                    MemoryMiB = 0,
                    Hostname = command.Hostname,
                    Dns = command.Dns,
                    LogDirectory = command.LogDirectory,
                    Guest = new GuestInfo(string.Empty, string.Empty, 0),
                },
                CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SphereletException)
        {
            LogCheckpointProblem($"sandbox {id}: cannot record the failed run: {e.Message}");
        }
    }

    private async Task RemoveUnownedAsync(string directory, Func<string, bool> owned, Func<string, Task> remove, LeftoverKind kind)
    {
        if (!Directory.Exists(directory))
        {
            return;
        }

        foreach (var entry in Directory.EnumerateDirectories(directory).ToList())
        {
            var name = Path.GetFileName(entry);
            if (!owned(name))
            {
                LogLeftoverFiles(entry);
                await remove(name);
                _recoveryMeter?.Removed(kind);
            }
        }
    }

    /// <summary>Before the VM runs: its tap goes on the switch (unless the backend put it there) and is closed to forged frames.</summary>
    private async Task PrepareNicAsync(IVmm vmm, string sandboxId, PodNetworkAttachment network, CancellationToken cancellationToken)
    {
        if (!vmm.PlugsNic)
        {
            await _network.PlugPortAsync(sandboxId, network, cancellationToken);
        }

        await _network.SecurePortAsync(sandboxId, network, cancellationToken);
    }

    /// <summary>
    /// The guest kernel's command line. <c>swiotlb=noforce</c>: memory that can be plugged lies
    /// above 4 GiB, which would make the kernel set 64 MiB aside for DMA bounce buffers no virtio
    /// device of a pod VM uses (measured: 66 MiB less MemTotal in a 256 MiB VM).
    /// </summary>
    private string KernelCommandLine() =>
        $"console=ttyS0 panic=-1 quiet random.trust_cpu=on memhp_default_state=online_movable swiotlb=noforce spherelet.share={ShareTag} spherelet.channel={_options.ChannelName}"
        + (_options.ExtraKernelArguments.Length > 0 ? " " + _options.ExtraKernelArguments : string.Empty);

    private const string ShareTag = "pod";

    /// <summary>
    /// The handler's profile, grown to hold the pod's resources: vCPUs to cover the CPU limit, or
    /// the CPU requests when there is no limit; memory plus the limit.
    /// </summary>
    private static (int Cpus, int MemoryMiB) Size(RuntimeHandler handler, RunPodSandboxCommand command)
    {
        var cpus = Math.Max(
            handler.VirtualCpus,
            Math.Max((int)Math.Ceiling(command.CpuMillis / 1000.0), (int)Math.Ceiling(command.CpuShares / 1024.0)));
        var memory = handler.MemoryMiB + (int)Math.Ceiling(command.MemoryLimitBytes / (1024.0 * 1024.0));
        return (cpus, memory);
    }

    /// <summary>The VM's place under the kubelet's cgroup for the pod, with the pod's CPU requests as its weight; null without a cgroup_parent.</summary>
    private VmCgroup? Cgroup(RunPodSandboxCommand command) =>
        command.CgroupParent.Length == 0
            ? null
            : new VmCgroup(
                _options.CgroupDriver,
                command.CgroupParent,
                command.CpuShares > 0 ? Math.Clamp(command.CpuShares + (command.Overhead.CpuMillis * 1024 / 1000), 2, 262144) : 0);

    private static string DefaultHostname(string podName)
    {
        var cleaned = new string(podName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '-').ToArray());
        return cleaned.Length > SandboxRequestValidator.MaxHostnameLength ? cleaned[..SandboxRequestValidator.MaxHostnameLength] : cleaned;
    }

    private static Task DeleteDirectoryAsync(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }

        return Task.CompletedTask;
    }

    private long UnixNanos() => (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;

    [LoggerMessage(Level = LogLevel.Information, Message = "vm started sandbox={SandboxId} vm={VmName} vcpus={VirtualCpus} memory_mib={MemoryMiB} handler={Handler} vmm={Vmm}")]
    private partial void LogVmStarted(string sandboxId, string vmName, int virtualCpus, int memoryMiB, string handler, string vmm);

    [LoggerMessage(Level = LogLevel.Information, Message = "sandbox ready sandbox={SandboxId} pod={Namespace}/{Name} vm={VmName} run_ms={RunMs} guest_boot_to_ready_ms={BootToReadyMs}")]
    private partial void LogSandboxReady(string sandboxId, string @namespace, string name, string vmName, long runMs, ulong bootToReadyMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "sandbox run failed and was undone pod={Namespace}/{Name} error={Error}")]
    private partial void LogRunFailed(string @namespace, string name, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "sandbox run failed and cleanup is incomplete sandbox={SandboxId} pod={Namespace}/{Name} error={Error} leftovers={Leftovers}")]
    private partial void LogRunCleanupFailed(string sandboxId, string @namespace, string name, string error, string leftovers);

    [LoggerMessage(Level = LogLevel.Information, Message = "vm grown sandbox={SandboxId} vm={VmName} vcpus={FromCpus}->{ToCpus} memory_mib={FromMemory}->{ToMemory}")]
    private partial void LogVmGrown(string sandboxId, string vmName, int fromCpus, int toCpus, int fromMemory, int toMemory);

    [LoggerMessage(Level = LogLevel.Information, Message = "sandbox stopped sandbox={SandboxId} pod={Namespace}/{Name}")]
    private partial void LogSandboxStopped(string sandboxId, string @namespace, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "sandbox removed sandbox={SandboxId} pod={Namespace}/{Name}")]
    private partial void LogSandboxRemoved(string sandboxId, string @namespace, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest did not power off cleanly sandbox={SandboxId} error={Error}")]
    private partial void LogShutdownNotClean(string sandboxId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "vm stopped outside spherelet sandbox={SandboxId} vm={VmName} reason={Reason}")]
    private partial void LogVmStoppedOutside(string sandboxId, string vmName, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "sandbox not ready sandbox={SandboxId} reason={Reason}")]
    private partial void LogMarkedNotReady(string sandboxId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "checkpoint problem: {Problem}")]
    private partial void LogCheckpointProblem(string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "leftover vm destroyed vm={VmName} sandbox={SandboxId} vmm={Vmm}")]
    private partial void LogLeftoverVm(string vmName, string sandboxId, string vmm);

    [LoggerMessage(Level = LogLevel.Warning, Message = "leftover files removed path={Path}")]
    private partial void LogLeftoverFiles(string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "vm bound to host cpus sandbox={SandboxId} vm={VmName} cpus={Cpus} mems={Mems}")]
    private partial void LogVmPinned(string sandboxId, string vmName, string cpus, string mems);

    [LoggerMessage(Level = LogLevel.Information, Message = "block device attached sandbox={SandboxId} vm={VmName} device={Device} serial={Serial} readonly={ReadOnly}")]
    private partial void LogDiskAttached(string sandboxId, string vmName, string device, string serial, bool readOnly);

    [LoggerMessage(Level = LogLevel.Information, Message = "block device detached sandbox={SandboxId} vm={VmName} device={Device} serial={Serial}")]
    private partial void LogDiskDetached(string sandboxId, string vmName, string device, string serial);

    [LoggerMessage(Level = LogLevel.Information, Message = "vm hugepage memory grown sandbox={SandboxId} vm={VmName} from_mib={FromMiB} to_mib={ToMiB}")]
    private partial void LogHugepagesGrown(string sandboxId, string vmName, int fromMiB, int toMiB);

    [LoggerMessage(Level = LogLevel.Information, Message = "recovery done sandboxes={Sandboxes} guests_reconnected={Reconnected} elapsed_ms={ElapsedMs}")]
    private partial void LogRecovered(int sandboxes, int reconnected, long elapsedMs);
}
