using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Vmm;
using Spherelet.Microvm.Native;

namespace Spherelet.Microvm;

/// <summary>
/// Pod VMs as QEMU <c>microvm</c> machines the agent runs itself, each confined in a jail of its own
/// (<see cref="Jail"/>) and driven over QMP. A QEMU is not the agent's to keep: it outlives an agent
/// restart, as a libvirt domain does, and is found again by its record (<see cref="MicrovmRecord"/>)
/// and its QMP socket. What a microvm cannot do while it runs (more vCPUs or memory, hot-plugged
/// disks, hugepage memory) is refused with FailedPrecondition.
/// </summary>
public sealed partial class MicrovmVmm : IVmm, IAsyncDisposable
{
    public const string BackendName = "microvm";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    private readonly MicrovmSettings _settings;
    private readonly IVmCgroups _cgroups;
    private readonly ILogger<MicrovmVmm> _logger;
    private readonly ConcurrentDictionary<string, QmpClient> _monitors = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConsoleLog> _consoles = new(StringComparer.Ordinal);

    /// <summary>The QEMUs this agent spawned, kept so their output is read to the end and their exit reaped.</summary>
    private readonly ConcurrentDictionary<string, Process> _processes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _deleting = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _reservedSlots = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _slots = new(1, 1);
    private readonly List<Action<VmStopped>> _watchers = [];

    public MicrovmVmm(MicrovmSettings settings, IVmCgroups cgroups, ILogger<MicrovmVmm> logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _cgroups = cgroups;
        _logger = logger;
    }

    /// <summary>How long QEMU may take to open its QMP socket after it was spawned.</summary>
    public static TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public string Name => BackendName;

    /// <summary>The backend makes the tap; the network room puts it on the switch.</summary>
    public bool PlugsNic => false;

    /// <summary>False: the microvm machine has no device memory for virtio-mem and no CPU hotplug.</summary>
    public bool Grows => false;

    private string JailMountPoint => Path.Combine(_settings.StateDirectory, "jail");

    private void MakeDirectories()
    {
        Directory.CreateDirectory(_settings.StateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(JailMountPoint);
    }

    /// <summary>
    /// At recovery (before any pod starts): makes the backend's directories and watches every VM of
    /// this agent that still runs. Never while a VM starts: QMP serves one client, and a second
    /// connection would wait for the first to go.
    /// </summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        MakeDirectories();
        foreach (var record in Records())
        {
            if (!_monitors.ContainsKey(record.Name) && IsAlive(record))
            {
                try
                {
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    deadline.CancelAfter(StartTimeout);
                    var monitor = await QmpClient.ConnectAsync(QmpSocket(record), deadline.Token);
                    Watch(record.Name, monitor);
                    await CopyConsoleAsync(record.Name, record.RunDirectory, record.ConsoleLogPath, cancellationToken);
                }
                catch (Exception e) when (e is VmmOperationFailedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    LogMonitorLost(record.Name, e.Message);
                }
            }
        }
    }

    /// <summary>The backend is in this process: it is never unreachable.</summary>
    public IDisposable WatchReconnects(Action handler) => new Unsubscriber(() => { });

    public async Task<VmIdMap?> ReserveAsync(string vmName, CancellationToken cancellationToken)
    {
        var slot = await ReserveSlotAsync(vmName, cancellationToken);
        return new VmIdMap(_settings.IdOf(slot), _settings.IdsPerVm);
    }

    public async Task<GuestEndpoint> StartAsync(VmSpec spec, Func<CancellationToken, Task>? beforeRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        await CreateAndRunAsync(spec, beforeRun, cancellationToken);
        // QEMU serves the CRX channel on the socket the spec named, in the VM's run directory.
        return new GuestEndpoint(spec.ChannelSocketPath);
    }

    private async Task CreateAndRunAsync(VmSpec spec, Func<CancellationToken, Task>? beforeRun, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        GuestFiles.EnsureExist(spec);

        MakeDirectories();
        var runDirectory = Path.GetDirectoryName(spec.ChannelSocketPath)!;
        if (!Directory.Exists(runDirectory))
        {
            throw new PreconditionFailedException($"the VM directory {runDirectory} does not exist");
        }

        var slot = _reservedSlots.TryGetValue(spec.Name, out var reserved) ? reserved : await ReserveSlotAsync(spec.Name, cancellationToken);
        Process? process = null;
        try
        {
            var id = _settings.IdOf(slot);
            var record = new MicrovmRecord
            {
                Agent = _settings.AgentInstance,
                Name = spec.Name,
                Uuid = spec.Uuid,
                Owner = spec.Owner,
                Slot = slot,
                Uid = id,
                VirtualCpus = spec.VirtualCpus,
                MemoryMiB = spec.MemoryMiB,
                Tap = spec.Nic?.PortName,
                Cgroup = spec.Cgroup,
                RunDirectory = runDirectory,
                ConsoleLogPath = spec.ConsoleLogPath,
            };
            // Recorded before QEMU exists: an agent that dies now finds it at recovery and cleans it up.
            Save(record);
            _reservedSlots.TryRemove(spec.Name, out _);
            var ids = IdMappedNamespace.For(new VmIdMap(id, _settings.IdsPerVm));

            var binds = new List<JailBind>
            {
                new(spec.KernelPath, JailPaths.Kernel, IsFile: true),
                new(spec.InitramfsPath, JailPaths.Initramfs, IsFile: true),
                new(spec.ShareDirectory, JailPaths.Share),
            };
            if (_settings.Accelerator == "kvm")
            {
                binds.Add(new JailBind("/dev/kvm", "/dev/kvm", IsFile: true, Writable: true, Device: true));
            }

            var started = Stopwatch.GetTimestamp();
            process = await Jail.SpawnAsync(
                new JailSpec(
                    JailMountPoint,
                    ids.Handle,
                    binds,
                    spec.Nic?.PortName,
                    spec.Nic?.Mtu ?? 0,
                    (Path.Combine(runDirectory, JailPaths.QmpSocketName), spec.ChannelSocketPath, Path.Combine(runDirectory, JailPaths.ConsoleSocketName)),
                    _settings.QemuPath,
                    fds => QemuCommandLine.Build(spec, _settings, fds)),
                cancellationToken);
            var output = new QemuOutput(spec.Name, process, _logger);
            record = record with { Pid = process.Id, StartTicks = ProcessStat.Read(process.Id)?.StartTicks ?? 0 };
            Save(record);

            var monitor = await ConnectWhileStartingAsync(spec.Name, Path.Combine(runDirectory, JailPaths.QmpSocketName), process, output, cancellationToken);
            try
            {
                await CopyConsoleAsync(spec.Name, runDirectory, spec.ConsoleLogPath, cancellationToken);
                if (spec.Cgroup is { } cgroup)
                {
                    await _cgroups.PlaceAsync(process.Id, spec.Name, cgroup, cancellationToken);
                }

                if (beforeRun is not null)
                {
                    await beforeRun(cancellationToken);
                }

                await monitor.ExecuteAsync("cont", null, cancellationToken);
            }
            catch
            {
                await monitor.DisposeAsync();
                throw;
            }

            Watch(spec.Name, monitor);
            var elapsedMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            LogStarted(spec.Name, process.Id, id, elapsedMs);
            _processes[spec.Name] = process;
            process = null;
        }
        catch (Exception e)
        {
            await DeleteAsync(spec.Name, CancellationToken.None);
            if (e is IOException io)
            {
                throw new VmmOperationFailedException($"cannot start microvm {spec.Name}: {io.Message}", io);
            }

            throw;
        }
        finally
        {
            process?.Dispose();
        }
    }

    /// <summary>
    /// QMP greets once QEMU has made its machine (the agent bound the socket, so a connection is queued
    /// at once and answered then); if QEMU exits first, its own words are the error.
    /// </summary>
    private static async Task<QmpClient> ConnectWhileStartingAsync(string vmName, string socket, Process process, QemuOutput output, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StartTimeout);
        try
        {
            return await QmpClient.ConnectAsync(socket, deadline.Token);
        }
        catch (Exception e) when (e is VmmOperationFailedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            if (process.HasExited)
            {
                await output.DrainedAsync();
                throw new VmmOperationFailedException($"QEMU of {vmName} exited at start ({process.ExitCode}): {output.Errors}", e);
            }

            throw new VmmOperationFailedException($"QEMU of {vmName} did not answer on QMP within {StartTimeout.TotalSeconds:0} s: {output.Errors}", e);
        }
    }

    /// <summary>Starts copying the VM's console into its log (QEMU made the socket with its other chardevs, before QMP answered).</summary>
    private async Task CopyConsoleAsync(string vmName, string runDirectory, string logPath, CancellationToken cancellationToken)
    {
        try
        {
            var console = await ConsoleLog.StartAsync(Path.Combine(runDirectory, JailPaths.ConsoleSocketName), logPath, cancellationToken);
            if (_consoles.TryRemove(vmName, out var previous))
            {
                await previous.DisposeAsync();
            }

            _consoles[vmName] = console;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            LogConsoleLost(vmName, e.Message);
        }
    }

    private void Watch(string vmName, QmpClient monitor)
    {
        _monitors[vmName] = monitor;
        _ = monitor.Closed.ContinueWith(
            async _ =>
            {
                _monitors.TryRemove(new KeyValuePair<string, QmpClient>(vmName, monitor));
                var reason = monitor.ShutdownReason switch
                {
                    "guest-shutdown" => "shutdown",
                    "host-qmp-quit" or "host-signal" => "destroyed",
                    "guest-panic" => "crashed",
                    "" => "crashed",
                    var other => other,
                };
                await monitor.DisposeAsync();
                if (_deleting.ContainsKey(vmName))
                {
                    return;
                }

                LogStopped(vmName, reason);
                Action<VmStopped>[] watchers;
                lock (_watchers)
                {
                    watchers = [.. _watchers];
                }

                foreach (var watcher in watchers)
                {
                    watcher(new VmStopped(vmName, reason));
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    public async Task<bool> StopAsync(string vmName, CancellationToken cancellationToken)
    {
        if (Load(vmName) is not { } record || !IsAlive(record))
        {
            return false;
        }

        JailNative.Kill(record.Pid, 9);
        while (IsAlive(record))
        {
            await Task.Delay(10, cancellationToken);
        }

        return true;
    }

    public async Task DeleteAsync(string vmName, CancellationToken cancellationToken)
    {
        _deleting[vmName] = true;
        try
        {
            _reservedSlots.TryRemove(vmName, out _);
            await StopAsync(vmName, cancellationToken);
            if (_monitors.TryRemove(vmName, out var monitor))
            {
                await monitor.DisposeAsync();
            }

            if (_consoles.TryRemove(vmName, out var console))
            {
                await console.DisposeAsync();
            }

            if (_processes.TryRemove(vmName, out var process))
            {
                process.Dispose();
            }

            if (Load(vmName) is { } record)
            {
                if (record.Cgroup is { } cgroup)
                {
                    await _cgroups.RemoveAsync(vmName, cgroup, cancellationToken);
                }

                File.Delete(RecordPath(vmName));
                IdMappedNamespace.Release(new VmIdMap(record.Uid, _settings.IdsPerVm));
            }
        }
        finally
        {
            _deleting.TryRemove(vmName, out _);
        }
    }

    public Task ResizeAsync(string vmName, int virtualCpus, int memoryMiB, CancellationToken cancellationToken)
    {
        var record = Load(vmName) ?? throw new ObjectNotFoundException($"no microvm named {vmName}");
        if (virtualCpus > record.VirtualCpus || memoryMiB > record.MemoryMiB)
        {
            throw new PreconditionFailedException(
                $"pod VM {vmName} runs on the microvm backend, which cannot grow a running VM ({record.VirtualCpus} vCPUs, {record.MemoryMiB} MiB; asked {virtualCpus} vCPUs, {memoryMiB} MiB): give the pod its resources at RunPodSandbox, or run it with a libvirt runtime handler");
        }

        return Task.CompletedTask;
    }

    public Task UpdateCgroupAsync(string vmName, VmCgroup cgroup, CancellationToken cancellationToken)
    {
        if (Load(vmName) is not { } record || !IsAlive(record))
        {
            throw new ObjectNotFoundException($"no running microvm named {vmName}");
        }

        _cgroups.Update(vmName, cgroup);
        return Task.CompletedTask;
    }

    public Task AttachDiskAsync(string vmName, VmDisk disk, CancellationToken cancellationToken) =>
        throw new PreconditionFailedException(
            $"pod VM {vmName} runs on the microvm backend, which cannot hot-plug block devices: run pods with raw block volumes with a libvirt runtime handler");

    public Task DetachDiskAsync(string vmName, VmDisk disk, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task GrowHugepagesAsync(string vmName, int mebibytes, CancellationToken cancellationToken) =>
        throw new PreconditionFailedException(
            $"pod VM {vmName} runs on the microvm backend, which has no hugepage memory: run pods that ask for hugepages with a libvirt runtime handler");

    public Task<VmStatus?> InspectAsync(string vmName, CancellationToken cancellationToken) =>
        Task.FromResult(Load(vmName) is { } record ? Status(record) : null);

    public Task<IReadOnlyList<VmStatus>> ListAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<VmStatus>>([.. Records().Select(Status)]);

    public IDisposable WatchStops(Action<VmStopped> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_watchers)
        {
            _watchers.Add(handler);
        }

        return new Unsubscriber(() =>
        {
            lock (_watchers)
            {
                _watchers.Remove(handler);
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        // The VMs run on: only the agent's connections to them close.
        foreach (var name in _monitors.Keys.ToList())
        {
            _deleting[name] = true;
            if (_monitors.TryRemove(name, out var monitor))
            {
                await monitor.DisposeAsync();
            }
        }

        foreach (var name in _consoles.Keys.ToList())
        {
            if (_consoles.TryRemove(name, out var console))
            {
                await console.DisposeAsync();
            }
        }

        foreach (var name in _processes.Keys.ToList())
        {
            if (_processes.TryRemove(name, out var process))
            {
                process.Dispose();
            }
        }

        _slots.Dispose();
    }

    private VmStatus Status(MicrovmRecord record)
    {
        var stat = ProcessStat.Read(record.Pid);
        var alive = stat is { Alive: true } && stat.StartTicks == record.StartTicks;
        var state = !alive ? VmState.Stopped
            : _monitors.TryGetValue(record.Name, out var monitor) && monitor.Running == false ? VmState.Paused
            : VmState.Running;
        return new VmStatus(
            record.Name,
            record.Uuid,
            state,
            record.VirtualCpus,
            record.MemoryMiB,
            alive ? TimeSpan.FromSeconds((double)stat!.CpuTicks / ProcessStat.TicksPerSecond) : TimeSpan.Zero,
            record.Owner);
    }

    private static bool IsAlive(MicrovmRecord record) =>
        record.Pid > 0 && ProcessStat.Read(record.Pid) is { Alive: true } stat && stat.StartTicks == record.StartTicks;

    private async Task<int> ReserveSlotAsync(string vmName, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        try
        {
            if (File.Exists(RecordPath(vmName)))
            {
                throw new ObjectAlreadyExistsException($"a microvm named {vmName} exists");
            }

            if (_reservedSlots.TryGetValue(vmName, out var reserved))
            {
                return reserved;
            }

            var taken = Records().Select(r => r.Slot).Concat(_reservedSlots.Values).ToHashSet();
            for (var slot = 0; slot < _settings.MaxVms; slot++)
            {
                if (!taken.Contains(slot))
                {
                    _reservedSlots[vmName] = slot;
                    return slot;
                }
            }

            throw new PreconditionFailedException($"all {_settings.MaxVms} microvm slots are taken (Microvm:MaxVms)");
        }
        finally
        {
            _slots.Release();
        }
    }

    private string RecordPath(string vmName) => Path.Combine(_settings.StateDirectory, vmName + ".json");

    private static string QmpSocket(MicrovmRecord record) => Path.Combine(record.RunDirectory, JailPaths.QmpSocketName);

    private MicrovmRecord? Load(string vmName)
    {
        try
        {
            var record = JsonSerializer.Deserialize<MicrovmRecord>(File.ReadAllBytes(RecordPath(vmName)), Json);
            return record is { Version: MicrovmRecord.CurrentVersion } && record.Agent == _settings.AgentInstance && record.Name == vmName ? record : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private IEnumerable<MicrovmRecord> Records()
    {
        if (!Directory.Exists(_settings.StateDirectory))
        {
            yield break;
        }

        foreach (var file in Directory.EnumerateFiles(_settings.StateDirectory, SandboxLayout.VmNamePrefix + "*.json"))
        {
            if (Load(Path.GetFileNameWithoutExtension(file)) is { } record)
            {
                yield return record;
            }
        }
    }

    private void Save(MicrovmRecord record)
    {
        var path = RecordPath(record.Name);
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(record, Json));
        File.Move(temporary, path, overwrite: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "microvm started vm={VmName} pid={Pid} uid={Uid} spawn_to_running_ms={ElapsedMs}")]
    private partial void LogStarted(string vmName, int pid, uint uid, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "microvm stopped vm={VmName} reason={Reason}")]
    private partial void LogStopped(string vmName, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "microvm console not reachable vm={VmName} error={Error}")]
    private partial void LogConsoleLost(string vmName, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "microvm monitor not reachable vm={VmName} error={Error}")]
    private partial void LogMonitorLost(string vmName, string error);
}
