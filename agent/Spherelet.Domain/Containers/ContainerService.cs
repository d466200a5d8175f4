using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Events;
using Spherelet.Domain.Runtime;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Vmm;

namespace Spherelet.Domain.Containers;

/// <summary>
/// The containers of the pod VMs: create, start, stop, remove, status and list, exec, resources,
/// logs and stats, each run by the pod's CRX; every state change checkpointed; the exit of every
/// running container watched and recorded; recovery at start. See <see cref="ContainerState"/>
/// for the state machine.
/// </summary>
public sealed partial class ContainerService : IAsyncDisposable
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    private readonly IRecoveryMeter? _recoveryMeter;
    private readonly SandboxService _sandboxes;
    private readonly IGuestContainers _guests;
    private readonly IPodShares _shares;
    private readonly IHostDevices _devices;
    private readonly IContainerCheckpointStore _checkpoints;
    private readonly ContainerLogs _logs;
    private readonly ContainerStore _store;
    private readonly NameRegistrar _names = new();
    private readonly ContainerServiceOptions _options;
    private readonly RuntimeReadiness _readiness;
    private readonly TimeProvider _time;
    private readonly ILogger<ContainerService> _logger;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _operations = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _watchers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private int _disposed;

    public ContainerService(
        SandboxService sandboxes,
        IGuestContainers guests,
        IPodShares shares,
        IHostDevices devices,
        IHostLogFiles logFiles,
        IContainerCheckpointStore checkpoints,
        ContainerServiceOptions options,
        RuntimeReadiness readiness,
        TimeProvider time,
        ILogger<ContainerService> logger,
        IRecoveryMeter? recoveryMeter = null)
    {
        _recoveryMeter = recoveryMeter;
        ArgumentNullException.ThrowIfNull(sandboxes);
        _sandboxes = sandboxes;
        _guests = guests;
        _shares = shares;
        _devices = devices;
        _checkpoints = checkpoints;
        _store = new ContainerStore(checkpoints);
        _options = options;
        _logs = new ContainerLogs(guests, logFiles, (uint)options.LogWindowBytes, logger);
        _readiness = readiness;
        _time = time;
        _logger = logger;
        _sandboxes.SandboxStopped += id => _ = OnSandboxStoppedAsync(id);
    }

    /// <summary>Creates the container in its pod's VM (not started) and returns its id.</summary>
    public async Task<string> CreateAsync(CreateContainerCommand command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var sandbox = ReadySandbox(command.SandboxId);
        var metadata = ContainerRequestValidator.Metadata(command.Metadata);
        var logPath = ContainerRequestValidator.LogPath(command.LogPath, sandbox.LogDirectory);
        var mountRequests = ContainerRequestValidator.Mounts(command.Mounts);
        RefusePodDirectories(mountRequests);
        var blockDevices = BlockDevices(command.Devices);
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        var key = metadata.ReservationKey(sandbox.Id);
        _names.Reserve(key, id);
        var undo = new RollbackSteps();
        try
        {
            CreateMissingHostPaths(mountRequests, undo);
            var mounts = await BindMountsAsync(sandbox.Id, id, mountRequests, undo, cancellationToken);
            // The pod sees the layers of its own containers' images only; they stay bound while the pod lives.
            await _shares.BindLayersAsync(sandbox.Id, command.Image.LayerDirectories.Select(Path.GetFileName).OfType<string>().ToList(), cancellationToken);
            var disks = await AttachBlockDevicesAsync(sandbox, id, blockDevices, undo, cancellationToken);
            var hugepages = await EnsureHugepagesAsync(sandbox, id, command.Hugepages2MBBytes, cancellationToken);
            var spec = command.BuildSpec(new ContainerSpecContext(id, GuestLayout.Rootfs(id), GuestLayout.Cgroup(id), GuestLayout.SandboxFiles, mounts)
            {
                Disks = disks,
                PodHugepages2MB = hugepages,
            });
            sandbox = await EnsureFitsAsync(sandbox, id, spec.ResourcesJson, cancellationToken);
            await PinPodAsync(sandbox, id, command.HostCpuset, cancellationToken);
            var pid = await _guests.CreateAsync(
                sandbox.Id,
                new GuestContainerCreate(id, GuestLayout.Bundle(id), spec.Json, command.Image.LayerDirectories, command.Tty, command.Stdin, command.StdinOnce, logPath.Length > 0 ? _options.LogSpoolBytes : 0),
                cancellationToken);
            undo.Push("guest container", () => _guests.RemoveAsync(sandbox.Id, id, CancellationToken.None));
            if (logPath.Length > 0)
            {
                // The host writes the CRI log file from the output CRX spools.
                try
                {
                    _logs.Start(sandbox.Id, id, sandbox.LogDirectory, logPath);
                }
                catch (IOException e)
                {
                    throw new PreconditionFailedException($"container {id}: the log file {logPath} cannot be made in {sandbox.LogDirectory}: {e.Message}", e);
                }

                undo.Push("log writer", () => _logs.StopAsync(id, TimeSpan.Zero));
            }

            var container = new Container
            {
                Id = id,
                SandboxId = sandbox.Id,
                Metadata = metadata,
                Image = command.Image,
                Labels = new Dictionary<string, string>(command.Labels, StringComparer.Ordinal),
                Annotations = new Dictionary<string, string>(command.Annotations, StringComparer.Ordinal),
                LogPath = command.LogPath,
                HostLogPath = logPath.Length > 0 ? Path.Combine(sandbox.LogDirectory, logPath) : string.Empty,
                Tty = command.Tty,
                Stdin = command.Stdin,
                StdinOnce = command.StdinOnce,
                Mounts = mounts,
                StopSignal = command.StopSignal,
                ProcessJson = spec.ProcessJson,
                ResourcesJson = spec.ResourcesJson,
                HostCpuset = command.HostCpuset,
                BlockDevices = disks.Values.Select(d => d.HostPath).Distinct(StringComparer.Ordinal).ToList(),
                State = ContainerState.Created,
                CreatedAt = UnixNanos(),
                Pid = pid,
            };
            await _store.AddAsync(container, cancellationToken);
            LogCreated(id, sandbox.Id, metadata.Name, metadata.Attempt, command.Image.Reference);
            Raise(id, PodEventType.Created);
            return id;
        }
        catch (Exception e)
        {
            var failures = await undo.UndoAllAsync();
            _names.Release(key, id);
            if (failures.Count == 0)
            {
                LogCreateFailed(sandbox.Id, metadata.Name, e.Message);
            }
            else
            {
                LogCreateCleanupFailed(id, sandbox.Id, metadata.Name, e.Message, string.Join("; ", failures));
            }

            throw;
        }
    }

    /// <summary>
    /// Refuses host paths in the pods' directories before anything is made or bound: there the host
    /// would make directories in, and bind from, trees another pod's guest can write. (The pod shares
    /// refuse, too, a host path that leads there through a link.)
    /// </summary>
    /// <exception cref="InvalidRequestException">A host path is in the pods' directories.</exception>
    private void RefusePodDirectories(IReadOnlyList<MountRequest> mounts)
    {
        var pods = Path.GetFullPath(_sandboxes.Layout.PodsDirectory).TrimEnd('/');
        foreach (var mount in mounts)
        {
            var path = Path.GetFullPath(mount.HostPath).TrimEnd('/');
            if (path == pods || path.StartsWith(pods + "/", StringComparison.Ordinal))
            {
                throw new InvalidRequestException($"mount host_path '{mount.HostPath}' is in Spherelet's pod directories, which no pod may be given");
            }
        }
    }

    /// <summary>
    /// Makes a mount's missing host path as a directory (mode 0755, with missing parents), as
    /// containerd does; what was made is removed again (if still empty) when a later step fails.
    /// </summary>
    private void CreateMissingHostPaths(IReadOnlyList<MountRequest> mounts, RollbackSteps undo)
    {
        foreach (var mount in mounts)
        {
            if (File.Exists(mount.HostPath) || Directory.Exists(mount.HostPath))
            {
                continue;
            }

            var made = new List<string>();
            for (var d = mount.HostPath.TrimEnd('/'); d.Length > 0 && !Directory.Exists(d) && !File.Exists(d); d = Path.GetDirectoryName(d) ?? string.Empty)
            {
                made.Add(d);
            }

            try
            {
                Directory.CreateDirectory(mount.HostPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new InvalidRequestException($"mount host_path '{mount.HostPath}' does not exist and cannot be made: {e.Message}");
            }

            LogHostPathMade(mount.HostPath);
            undo.Push($"host path {mount.HostPath}", () =>
            {
                foreach (var directory in made)
                {
                    if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
                    {
                        Directory.Delete(directory);
                    }
                }

                return Task.CompletedTask;
            });
        }
    }

    /// <summary>Starts a created container; its exit is watched from now on.</summary>
    /// <exception cref="PreconditionFailedException">The container is not CREATED, or its pod is not READY.</exception>
    public async Task StartAsync(string idOrPrefix, CancellationToken cancellationToken)
    {
        var id = Get(idOrPrefix).Id;
        await WithContainerAsync(id, async container =>
        {
            if (container.State != ContainerState.Created)
            {
                throw new PreconditionFailedException($"container {id} is {Describe(container.State)}, not created: it can be started only once");
            }

            var sandbox = ReadySandbox(container.SandboxId);

            // started_at is when the start was asked for: the process runs somewhere between that and
            // the answer (crun start takes hundreds of milliseconds under TCG), and a quick process may
            // have exited before the answer, so the answer's time could come after its exit.
            var requested = UnixNanos();
            try
            {
                await _guests.StartAsync(sandbox.Id, id, cancellationToken);
            }
            catch (SphereletException e) when (e is not GuestUnavailableException)
            {
                // The process could not be started (crun start failed): the container is over.
                await _store.UpdateAsync(
                    id,
                    c => c with { State = ContainerState.Exited, ExitCode = 128, FinishedAt = UnixNanos(), Reason = Container.Reasons.Error, Message = e.Message },
                    CancellationToken.None);
                LogStartFailed(id, e.Message);
                Raise(id, PodEventType.Stopped);
                throw;
            }

            await _store.UpdateAsync(id, c => c with { State = ContainerState.Running, StartedAt = requested }, CancellationToken.None);
            // Before the exit is watched: a quick process's Stopped never comes before its Started.
            Raise(id, PodEventType.Started);
            Watch(id);
            LogStarted(id, container.SandboxId);
        });
    }

    /// <summary>
    /// Sends the container's stop signal, then SIGKILL once <paramref name="timeout"/> has passed
    /// (at once when it is zero), and records the exit. Stopping a container that is not running,
    /// or one that does not exist, does nothing (CRI: StopContainer is idempotent).
    /// </summary>
    public async Task StopAsync(string idOrPrefix, TimeSpan timeout, CancellationToken cancellationToken)
    {
        EnsureReady();
        if (_store.FindByIdOrPrefix(idOrPrefix) is not { Id: var id })
        {
            return;
        }

        await WithContainerAsync(id, container => StopLockedAsync(container, timeout, cancellationToken));
    }

    /// <summary>Kills a running container, deletes it in the VM, unbinds its mounts and forgets it. Removing an unknown container succeeds.</summary>
    public async Task RemoveAsync(string idOrPrefix, CancellationToken cancellationToken)
    {
        EnsureReady();
        if (_store.FindByIdOrPrefix(idOrPrefix) is not { Id: var id })
        {
            return;
        }

        await WithContainerAsync(id, container => RemoveLockedAsync(container, cancellationToken));
        _operations.TryRemove(id, out _);
    }

    /// <summary>
    /// Removes every container of the pod (killed first where one still runs); its part of
    /// <see cref="Pods.PodLifecycle.RemoveAsync"/>, which then removes the sandbox.
    /// </summary>
    public async Task RemoveAllOfPodAsync(string sandboxId, CancellationToken cancellationToken)
    {
        foreach (var container in ContainersOf(sandboxId))
        {
            await RemoveAsync(container.Id, cancellationToken);
        }
    }

    /// <summary>A container by id or unique id prefix.</summary>
    /// <exception cref="ObjectNotFoundException">No such container.</exception>
    public Container Get(string idOrPrefix)
    {
        EnsureReady();
        return _store.Get(idOrPrefix);
    }

    public IReadOnlyList<Container> List(ContainerFilter filter)
    {
        EnsureReady();
        return _store.List(filter);
    }

    /// <summary>Who uses an image ("container ID"), or null when no container does.</summary>
    public string? FindImageUser(string imageId) =>
        _store.Where(c => c.Image.Id == imageId).Select(c => $"container {c.Id}").FirstOrDefault();

    /// <summary>
    /// Runs <paramref name="command"/> in the running container, as its own process (env, cwd, user),
    /// and returns its output and exit code.
    /// </summary>
    /// <exception cref="DeadlineExceededException">The timeout passed; the process was killed.</exception>
    public async Task<ExecResult> ExecSyncAsync(string idOrPrefix, IReadOnlyList<string> command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var container = Running(Get(idOrPrefix), "exec in");
        if (command.Count == 0 || command[0].Length == 0)
        {
            throw new InvalidRequestException("ExecSync needs a command");
        }

        var sandbox = ReadySandbox(container.SandboxId);
        var execId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var process = ExecProcess(container.ProcessJson, command);
        var result = await _guests.ExecSyncAsync(
            sandbox.Id, container.Id, execId, process, _options.ExecOutputLimitBytes, timeout, cancellationToken);
        if (result.TimedOut)
        {
            LogExecTimedOut(container.Id, command[0], timeout.TotalSeconds);
            throw new DeadlineExceededException(
                $"command '{command[0]}' in container {container.Id} did not finish within {timeout.TotalSeconds:0.###} s and was killed");
        }

        return result;
    }

    /// <summary>
    /// Checks that a streaming session can be had with the container (it runs, its pod is ready)
    /// and returns it; a CRI Exec or Attach makes its URL only then.
    /// </summary>
    /// <exception cref="NotFoundException">No such container.</exception>
    /// <exception cref="PreconditionFailedException">It is not running.</exception>
    public Container StreamableContainer(string idOrPrefix, string what) => Streamable(idOrPrefix, what).Container;

    /// <summary>
    /// Starts <paramref name="command"/> in the running container (its env, working directory, user
    /// and capabilities), on a terminal when asked, with its stdio attached to the returned session.
    /// </summary>
    public async Task<IInteractiveProcess> ExecAsync(string idOrPrefix, IReadOnlyList<string> command, bool tty, bool stdin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        var (container, sandbox) = Streamable(idOrPrefix, "exec in");
        if (command.Count == 0 || command[0].Length == 0)
        {
            throw new InvalidRequestException("Exec needs a command");
        }

        var execId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        LogExecStarted(container.Id, execId, command[0], tty);
        return await _guests.ExecInteractiveAsync(
            sandbox.Id, container.Id, execId, ExecProcess(container.ProcessJson, command, tty), tty, stdin, cancellationToken);
    }

    /// <summary>Attaches a session to the running container's main process (on its terminal if it has one).</summary>
    public async Task<IInteractiveProcess> AttachAsync(string idOrPrefix, CancellationToken cancellationToken)
    {
        var (container, sandbox) = Streamable(idOrPrefix, "attach to");
        return await _guests.AttachAsync(sandbox.Id, container.Id, container.Tty, cancellationToken);
    }

    /// <summary>Applies new cgroup limits (an OCI <c>linux.resources</c> object, JSON) to a created or running container.</summary>
    /// <param name="hostCpuset">The host CPUs and memory nodes the container may use from now on (they bind the pod's VM).</param>
    public async Task UpdateResourcesAsync(string idOrPrefix, string resourcesJson, HostCpuset hostCpuset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hostCpuset);
        var id = Get(idOrPrefix).Id;
        await WithContainerAsync(id, async container =>
        {
            if (container.State is not (ContainerState.Created or ContainerState.Running))
            {
                throw new PreconditionFailedException($"container {id} is {Describe(container.State)}: its resources cannot change");
            }

            var sandbox = await EnsureFitsAsync(ReadySandbox(container.SandboxId), id, resourcesJson, cancellationToken);
            if (PodHugepagesBytes(sandbox, id, ResourceLimits.FromOci(resourcesJson).Hugepages2MBBytes) > sandbox.HugepagesMiB * (1L << 20))
            {
                throw new PreconditionFailedException(
                    $"container {id}: hugepages are made in the pod VM when a container is created; they cannot grow for one that exists");
            }

            await PinPodAsync(sandbox, id, hostCpuset, cancellationToken);
            await _guests.UpdateResourcesAsync(
                sandbox.Id, id, Encoding.UTF8.GetBytes(resourcesJson), sandbox.VirtualCpus, cancellationToken);
            await _store.UpdateAsync(id, c => c with { ResourcesJson = resourcesJson, HostCpuset = hostCpuset }, CancellationToken.None);
            LogResourcesUpdated(id);
        });
    }

    /// <summary>Closes the container's log file and opens a new one at its path (after the kubelet rotated it).</summary>
    public Task ReopenLogAsync(string idOrPrefix, CancellationToken cancellationToken)
    {
        var container = Running(Get(idOrPrefix), "reopen the log of");
        if (container.HostLogPath.Length == 0)
        {
            throw new PreconditionFailedException($"container {container.Id} has no log file");
        }

        ReadySandbox(container.SandboxId);
        return _logs.Reopen(container.Id)
            ? Task.CompletedTask
            : throw new PreconditionFailedException($"container {container.Id}: its log is not being written (its pod's guest is not connected)");
    }

    /// <summary>Usage of the pod's VM and its containers; null when the pod is not READY (its VM is not running).</summary>
    public async Task<PodUsage?> PodUsageAsync(string sandboxIdOrPrefix, IReadOnlyCollection<string> containerIds, CancellationToken cancellationToken)
    {
        var sandbox = _sandboxes.Get(sandboxIdOrPrefix);
        if (sandbox.State != SandboxState.Ready)
        {
            return null;
        }

        return await _guests.StatsAsync(sandbox.Id, containerIds, cancellationToken);
    }

    /// <summary>
    /// <see cref="PodUsageAsync"/> for node-wide statistics: a pod whose guest fails or does not
    /// answer within <see cref="ContainerServiceOptions.NodeStatsDeadline"/> is left out (null,
    /// logged), so one pod cannot fail or hold the node's statistics.
    /// </summary>
    public async Task<PodUsage?> PodUsageOrNoneAsync(string sandboxId, IReadOnlyCollection<string> containerIds, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.NodeStatsDeadline);
        try
        {
            return await PodUsageAsync(sandboxId, containerIds, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogStatsLeftOut(sandboxId, $"no answer within {_options.NodeStatsDeadline.TotalSeconds:0.#} s");
            return null;
        }
        catch (SphereletException e)
        {
            LogStatsLeftOut(sandboxId, e.Message);
            return null;
        }
    }

    /// <summary>
    /// At start, once the sandboxes are recovered: reloads every container checkpoint (those of
    /// sandboxes that are gone are deleted), records the exits of containers whose VM is gone,
    /// and watches every running container again: one that exited while the agent was down
    /// reports its real exit code as soon as its guest answers.
    /// </summary>
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var (containers, problems) = await _checkpoints.LoadAllAsync(cancellationToken);
        foreach (var problem in problems)
        {
            LogCheckpointProblem(problem);
        }

        var running = new List<Container>();
        foreach (var container in containers)
        {
            if (_sandboxes.Find(container.SandboxId) is not { } sandbox)
            {
                LogCheckpointProblem($"container {container.Id}: its pod sandbox {container.SandboxId} is gone; checkpoint deleted");
                await _checkpoints.DeleteAsync(container, cancellationToken);
                _recoveryMeter?.Removed(LeftoverKind.ContainerRecord);
                continue;
            }

            _store.Restore(container);
            try
            {
                _names.Reserve(container.Metadata.ReservationKey(container.SandboxId), container.Id);
            }
            catch (ObjectAlreadyExistsException e)
            {
                LogCheckpointProblem($"container {container.Id}: {e.Message}");
            }

            if (container.State == ContainerState.Running)
            {
                if (sandbox.State == SandboxState.Ready)
                {
                    running.Add(container);
                }
                else
                {
                    await RecordGoneAsync(container.Id, "the pod VM stopped while the agent was down");
                }
            }
        }

        // Output spooled in the VMs while the agent was away goes to the log files now.
        foreach (var container in _store.List(new ContainerFilter(null, null, null, null)).Where(c => c.HostLogPath.Length > 0))
        {
            if (_sandboxes.Find(container.SandboxId) is { State: SandboxState.Ready } ready && ready.LogDirectory.Length > 0)
            {
                try
                {
                    _logs.Start(ready.Id, container.Id, ready.LogDirectory, Path.GetRelativePath(ready.LogDirectory, container.HostLogPath));
                }
                catch (IOException e)
                {
                    LogCheckpointProblem($"container {container.Id}: its log file cannot be opened: {e.Message}");
                }
            }
        }

        foreach (var container in running)
        {
            Watch(container.Id);
        }

        LogRecovered(containers.Count, running.Count);
    }

    /// <summary>The agent stops: the exit watchers end (each disposes its own token) and record nothing more.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _stopping.CancelAsync();
            await _logs.DisposeAsync();
        }
    }

    private async Task StopLockedAsync(Container container, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (container.State != ContainerState.Running)
        {
            return;
        }

        if (_sandboxes.Find(container.SandboxId) is not { State: SandboxState.Ready } sandbox)
        {
            await RecordGoneAsync(container.Id, "the pod VM is not running");
            return;
        }
        ContainerExit? exit = null;
        if (timeout > TimeSpan.Zero)
        {
            await _guests.SignalAsync(sandbox.Id, container.Id, container.StopSignal, cancellationToken);
            exit = await WaitForExitAsync(sandbox.Id, container.Id, timeout, cancellationToken);
        }

        if (exit is null)
        {
            await _guests.SignalAsync(sandbox.Id, container.Id, SigKill, cancellationToken);
            exit = await WaitForExitAsync(sandbox.Id, container.Id, _options.KillWait, cancellationToken)
                ?? throw new GuestOperationFailedException($"container {container.Id} did not die within {_options.KillWait.TotalSeconds:0} s of SIGKILL");
        }

        await RecordExitAsync(container.Id, exit);
        LogStopped(container.Id, exit.ExitCode, timeout.TotalSeconds);
    }

    private async Task RemoveLockedAsync(Container container, CancellationToken cancellationToken)
    {
        if (_store.Find(container.Id) is null)
        {
            return;
        }

        if (_sandboxes.Find(container.SandboxId) is { State: SandboxState.Ready } sandbox)
        {
            // CRX kills what still runs, unmounts the root file system and deletes the container.
            await _guests.RemoveAsync(sandbox.Id, container.Id, cancellationToken);
        }

        StopWatching(container.Id);
        // What CRX still sends of its output is written before the log is let go.
        await _logs.StopAsync(container.Id, TimeSpan.FromSeconds(2));
        await _shares.UnbindVolumesAsync(container.SandboxId, container.Id);
        foreach (var device in container.BlockDevices)
        {
            await _sandboxes.ReleaseDiskAsync(container.SandboxId, device, container.Id, cancellationToken);
        }

        var removed = _store.Find(container.Id) ?? container;
        await _store.RemoveAsync(container.Id, cancellationToken);
        _names.Release(container.Metadata.ReservationKey(container.SandboxId), container.Id);
        LogRemoved(container.Id, container.SandboxId);
        Raise(removed, PodEventType.Deleted);
    }

    /// <summary>
    /// Stops every running container of the pod at once (no grace: the kubelet stopped them with
    /// theirs before it stops the pod); its part of <see cref="Pods.PodLifecycle"/>'s Stop and Remove.
    /// A container the guest cannot reach any more ends with the pod VM.
    /// </summary>
    public async Task StopAllOfPodAsync(string sandboxId, CancellationToken cancellationToken)
    {
        foreach (var container in _store.List(new ContainerFilter(null, sandboxId, ContainerState.Running, null)))
        {
            try
            {
                await StopAsync(container.Id, TimeSpan.Zero, cancellationToken);
            }
            catch (SphereletException e) when (e is GuestUnavailableException or GuestOperationFailedException)
            {
                // The VM is stopped next anyway; the exit is recorded as the pod VM's end.
                LogStopFailed(container.Id, e.Message);
            }
        }
    }

    /// <summary>
    /// The host block devices among a container's devices (symlinks resolved); the devices the guest
    /// kernel provides are not among them. Anything else is refused, naming it, before anything is done.
    /// </summary>
    private List<(DeviceRequest Request, string HostDevice)> BlockDevices(IReadOnlyList<DeviceRequest> devices)
    {
        var result = new List<(DeviceRequest, string)>();
        foreach (var device in devices.Where(d => !GuestCharDevices.Provided.ContainsKey(d.HostPath)))
        {
            var resolved = _devices.ResolveBlockDevice(device.HostPath)
                ?? throw new InvalidRequestException(
                    $"device {device.HostPath} is not supported: a pod VM gets host block devices and the devices its own kernel provides ({string.Join(", ", GuestCharDevices.Provided.Keys)})");
            result.Add((device, resolved));
        }

        return result;
    }

    /// <summary>Gives the pod's VM each block device (once per pod; read-only unless a container may write it), keyed by container path.</summary>
    private async Task<IReadOnlyDictionary<string, VmDisk>> AttachBlockDevicesAsync(
        PodSandbox sandbox, string containerId, List<(DeviceRequest Request, string HostDevice)> devices, RollbackSteps undo, CancellationToken cancellationToken)
    {
        var disks = new Dictionary<string, VmDisk>(StringComparer.Ordinal);
        foreach (var (request, hostDevice) in devices)
        {
            var disk = await _sandboxes.AttachDiskAsync(sandbox.Id, hostDevice, readOnly: !request.Permissions.Contains('w', StringComparison.Ordinal), containerId, cancellationToken);
            if (!disks.Values.Any(d => d.HostPath == hostDevice))
            {
                undo.Push($"block device {hostDevice}", () => _sandboxes.ReleaseDiskAsync(sandbox.Id, hostDevice, containerId, CancellationToken.None));
            }

            disks[request.ContainerPath.Length > 0 ? request.ContainerPath : request.HostPath] = disk;
        }

        return disks;
    }

    /// <summary>Binds each host path into the pod share (read-only where asked); the guest sees them under /pod/volumes/ID.</summary>
    private async Task<IReadOnlyList<ContainerMount>> BindMountsAsync(
        string sandboxId, string containerId, IReadOnlyList<MountRequest> requests, RollbackSteps undo, CancellationToken cancellationToken)
    {
        if (requests.Count == 0)
        {
            return [];
        }

        undo.Push("host path mounts", () => _shares.UnbindVolumesAsync(sandboxId, containerId));
        var mounts = new List<ContainerMount>();
        for (var i = 0; i < requests.Count; i++)
        {
            var request = requests[i];
            var access = !request.ReadOnly ? BindAccess.ReadWrite : request.RecursiveReadOnly ? BindAccess.RecursiveReadOnly : BindAccess.ReadOnly;
            var bind = await _shares.BindVolumeAsync(sandboxId, containerId, i, request.HostPath, access, request.Propagation == MountPropagation.HostToContainer, cancellationToken);
            mounts.Add(new ContainerMount(request.ContainerPath, request.HostPath, request.ReadOnly, request.Propagation, GuestLayout.InShare(bind.InShare), request.RecursiveReadOnly)
            {
                Submounts = bind.Submounts.Select(s => new ContainerSubmount(s.PathInVolume, GuestLayout.InShare(s.InShare))).ToList(),
            });
        }

        return mounts;
    }

    /// <summary>
    /// Grows the pod's VM when the limits of its containers, with <paramref name="containerId"/>'s
    /// as <paramref name="resourcesJson"/>, no longer fit: vCPUs to cover the sum of the CPU limits,
    /// memory to the handler's profile plus the sum of the memory limits (RunPodSandbox's rule).
    /// A VM whose backend cannot grow it keeps its size: limits then cap within it, as they do on
    /// an overcommitted node, and only a memory limit beyond the whole VM is refused.
    /// </summary>
    private async Task<PodSandbox> EnsureFitsAsync(PodSandbox sandbox, string containerId, string resourcesJson, CancellationToken cancellationToken)
    {
        if (!_sandboxes.CanGrow(sandbox))
        {
            var memoryBytes = ResourceLimits.FromOci(resourcesJson).MemoryBytes;
            if (memoryBytes > sandbox.MemoryMiB * 1024L * 1024L)
            {
                throw new PreconditionFailedException(
                    $"container {containerId}'s memory limit of {(memoryBytes + (1L << 20) - 1) >> 20} MiB is beyond its pod VM's {sandbox.MemoryMiB} MiB, and the VM's {sandbox.Vmm} backend cannot grow it: give the pod its resources at RunPodSandbox, or run it with a handler whose backend grows (libvirt)");
            }

            return sandbox;
        }

        if (!_sandboxes.Handlers.TryResolve(sandbox.RuntimeHandler, out var handler))
        {
            return sandbox;
        }

        var limits = OtherLiveContainers(sandbox.Id, containerId)
            .Select(c => ResourceLimits.FromOci(c.ResourcesJson))
            .Append(ResourceLimits.FromOci(resourcesJson))
            .ToList();
        var cpus = Math.Max(handler.VirtualCpus, (int)Math.Ceiling(limits.Sum(l => l.CpuMillis) / 1000.0));
        var memory = handler.MemoryMiB + (int)Math.Ceiling(limits.Sum(l => l.MemoryBytes) / (1024.0 * 1024.0));
        return cpus > sandbox.VirtualCpus || memory > sandbox.MemoryMiB
            ? await _sandboxes.GrowAsync(sandbox.Id, cpus, memory, cancellationToken)
            : sandbox;
    }

    /// <summary>
    /// Gives the pod's VM hugepage memory for the 2 MiB hugepages its containers ask for in all (with
    /// <paramref name="containerId"/>'s as <paramref name="bytes"/>); returns how many pages that is.
    /// </summary>
    private async Task<long> EnsureHugepagesAsync(PodSandbox sandbox, string containerId, long bytes, CancellationToken cancellationToken)
    {
        var total = PodHugepagesBytes(sandbox, containerId, bytes);
        if (total == 0)
        {
            return 0;
        }

        var pages = (total + (2L << 20) - 1) / (2L << 20);
        await _sandboxes.GrowHugepagesAsync(sandbox.Id, (int)(pages * 2), cancellationToken);
        return pages;
    }

    private long PodHugepagesBytes(PodSandbox sandbox, string containerId, long bytes) =>
        bytes + OtherLiveContainers(sandbox.Id, containerId)
            .Sum(c => ResourceLimits.FromOci(c.ResourcesJson).Hugepages2MBBytes);

    /// <summary>
    /// Binds the pod's VM to the host CPUs and memory nodes its containers may use (the union of
    /// their cpusets, with <paramref name="containerId"/>'s as <paramref name="cpuset"/>). The VM never
    /// loses CPUs a running container had: sets only grow until a container leaves.
    /// </summary>
    private async Task PinPodAsync(PodSandbox sandbox, string containerId, HostCpuset cpuset, CancellationToken cancellationToken)
    {
        var others = OtherLiveContainers(sandbox.Id, containerId);
        if (cpuset.IsAny && others.All(c => c.HostCpuset.IsAny))
        {
            return;
        }

        await _sandboxes.PinAsync(sandbox.Id, HostCpuset.Union(others.Select(c => c.HostCpuset).Append(cpuset)), cancellationToken);
    }

    /// <summary>The pod's created or running containers other than <paramref name="containerId"/>: those whose limits, cpusets and hugepages its VM holds besides the one at hand.</summary>
    private List<Container> OtherLiveContainers(string sandboxId, string containerId) =>
        _store.Where(c => c.SandboxId == sandboxId && c.Id != containerId && c.State is ContainerState.Created or ContainerState.Running).ToList();

    /// <summary>Waits for the exit up to <paramref name="timeout"/>; null when the process still runs then.</summary>
    private async Task<ContainerExit?> WaitForExitAsync(string sandboxId, string containerId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            return await _guests.WaitAsync(sandboxId, containerId, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>Watches a running container until it exits, the agent stops, or the container is removed.</summary>
    private void Watch(string id)
    {
        var watcher = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        if (!_watchers.TryAdd(id, watcher))
        {
            watcher.Dispose();
            return;
        }

        _ = Task.Run(() => WatchAsync(id, watcher), CancellationToken.None);
    }

    /// <summary>Ends the container's watcher (it disposes its token itself).</summary>
    private void StopWatching(string id)
    {
        if (_watchers.TryRemove(id, out var watcher))
        {
            watcher.Cancel();
        }
    }

    private async Task WatchAsync(string id, CancellationTokenSource watcher)
    {
        var cancellationToken = watcher.Token;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (_store.Find(id) is not { State: ContainerState.Running } container)
                {
                    return;
                }

                if (_sandboxes.Find(container.SandboxId) is not { State: SandboxState.Ready } sandbox)
                {
                    await RecordGoneAsync(id, "the pod VM stopped");
                    return;
                }

                try
                {
                    var exit = await _guests.WaitAsync(sandbox.Id, id, cancellationToken);
                    await RecordExitAsync(id, exit);
                    return;
                }
                catch (ObjectNotFoundException)
                {
                    // CRX does not know the container (the VM started anew), or it was removed
                    // meanwhile (then there is nothing left to record).
                    if (_store.Find(id) is not null)
                    {
                        await RecordGoneAsync(id, "the pod VM no longer has the container");
                    }

                    return;
                }
                catch (GuestUnavailableException e)
                {
                    LogWatchRetry(id, e.Message);
                    await Task.Delay(_options.WatchRetry, cancellationToken);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
            // The agent stops or the container went away: nothing to record.
        }
#pragma warning disable CA1031 // A watcher runs detached: whatever fails is logged, never lost.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogWatchFailed(id, e.Message);
        }
        finally
        {
            _watchers.TryRemove(new KeyValuePair<string, CancellationTokenSource>(id, watcher));
            watcher.Dispose();
        }
    }

    /// <summary>The pod's VM stopped: its running containers are over (their own exits were recorded when seen).</summary>
    private async Task OnSandboxStoppedAsync(string sandboxId)
    {
        try
        {
            foreach (var container in _store.List(new ContainerFilter(null, sandboxId, ContainerState.Running, null)))
            {
                StopWatching(container.Id);
                await RecordGoneAsync(container.Id, "the pod VM stopped");
            }
        }
        catch (Exception e) when (e is SphereletException or IOException)
        {
            LogWatchFailed(sandboxId, e.Message);
        }
    }

    private async Task RecordExitAsync(string id, ContainerExit exit)
    {
        var reason = exit.OomKilled ? Container.Reasons.OomKilled : exit.ExitCode == 0 ? Container.Reasons.Completed : Container.Reasons.Error;
        // The VM's clock is not the host's (it drifts, more so under TCG): the exit is placed on the
        // host's clock by how long ago the guest saw it (its monotonic clock), never before the start.
        var finishedAt = UnixNanos() - (exit.FinishedAgo.Ticks * 100);
        var changed = false;
        await _store.UpdateAsync(
            id,
            c =>
            {
                if (c.State != ContainerState.Running)
                {
                    return c;
                }

                changed = true;
                return c with
                {
                    State = ContainerState.Exited,
                    ExitCode = exit.ExitCode,
                    Reason = reason,
                    FinishedAt = Math.Max(finishedAt, c.StartedAt),
                    Message = exit.Signal > 0 ? $"killed by signal {exit.Signal}" : string.Empty,
                };
            },
            CancellationToken.None);
        if (changed)
        {
            LogExited(id, exit.ExitCode, exit.Signal, reason);
            Raise(id, PodEventType.Stopped);
        }
    }

    /// <summary>The container's VM went away without telling how it ended: exit code 255, reason Error.</summary>
    private async Task RecordGoneAsync(string id, string message)
    {
        try
        {
            var changed = false;
            await _store.UpdateAsync(
                id,
                c =>
                {
                    if (c.State != ContainerState.Running)
                    {
                        return c;
                    }

                    changed = true;
                    return c with { State = ContainerState.Exited, ExitCode = 255, Reason = Container.Reasons.Error, Message = message, FinishedAt = UnixNanos() };
                },
                CancellationToken.None);
            LogGone(id, message);
            if (changed)
            {
                Raise(id, PodEventType.Stopped);
            }
        }
        catch (ObjectNotFoundException)
        {
            // Removed meanwhile.
        }
    }

    /// <summary>
    /// Raised after each change of a container's state (created, started, exited, removed), with the
    /// container as it is then (as it was last, for a removal). Handlers must neither block nor throw.
    /// </summary>
    public event Action<Container, PodEventType>? ContainerChanged;

    /// <summary>The containers of a pod as they are now, oldest first, whatever the runtime's readiness (for events and metrics).</summary>
    public IReadOnlyList<Container> ContainersOf(string sandboxId) =>
        _store.List(new ContainerFilter(null, sandboxId, null, null));

    private void Raise(string id, PodEventType type)
    {
        if (_store.Find(id) is { } container)
        {
            Raise(container, type);
        }
    }

    private void Raise(Container container, PodEventType type) => ContainerChanged?.Invoke(container, type);

    /// <summary>Runs <paramref name="action"/> on the container's current value, one operation per container at a time.</summary>
    private async Task WithContainerAsync(string id, Func<Container, Task> action)
    {
        var gate = _operations.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync();
        try
        {
            if (_store.Find(id) is { } container)
            {
                await action(container);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    private PodSandbox ReadySandbox(string sandboxId) => _sandboxes.GetReady(sandboxId);

    private (Container Container, PodSandbox Sandbox) Streamable(string idOrPrefix, string what)
    {
        var container = Running(Get(idOrPrefix), what);
        return (container, ReadySandbox(container.SandboxId));
    }

    private static Container Running(Container container, string what) =>
        container.State == ContainerState.Running
            ? container
            : throw new PreconditionFailedException($"cannot {what} container {container.Id}: it is {Describe(container.State)}, not running");

    /// <summary>The container's own process with another command: same env, cwd, user and capabilities; a terminal only when asked.</summary>
    private static byte[] ExecProcess(string processJson, IReadOnlyList<string> command, bool tty = false)
    {
        var process = JsonNode.Parse(processJson) as JsonObject ?? new JsonObject();
        process["args"] = new JsonArray(command.Select(a => (JsonNode?)a).ToArray());
        process["terminal"] = tty;
        process.Remove("consoleSize");
        return Encoding.UTF8.GetBytes(process.ToJsonString());
    }

    private void EnsureReady() => _readiness.EnsureReady();

    private static string Describe(ContainerState state) => state.ToString().ToLowerInvariant();

    private long UnixNanos() => (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;

    [LoggerMessage(Level = LogLevel.Information, Message = "exec started container={ContainerId} exec={ExecId} command={Command} tty={Tty}")]
    private partial void LogExecStarted(string containerId, string execId, string command, bool tty);

    [LoggerMessage(Level = LogLevel.Information, Message = "container created container={ContainerId} sandbox={SandboxId} name={Name} attempt={Attempt} image={Image}")]
    private partial void LogCreated(string containerId, string sandboxId, string name, uint attempt, string image);

    [LoggerMessage(Level = LogLevel.Warning, Message = "container create failed and was undone sandbox={SandboxId} name={Name} error={Error}")]
    private partial void LogCreateFailed(string sandboxId, string name, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "container create failed and cleanup is incomplete container={ContainerId} sandbox={SandboxId} name={Name} error={Error} leftovers={Leftovers}")]
    private partial void LogCreateCleanupFailed(string containerId, string sandboxId, string name, string error, string leftovers);

    [LoggerMessage(Level = LogLevel.Information, Message = "container started container={ContainerId} sandbox={SandboxId}")]
    private partial void LogStarted(string containerId, string sandboxId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "container start failed container={ContainerId} error={Error}")]
    private partial void LogStartFailed(string containerId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "container stopped container={ContainerId} exit_code={ExitCode} timeout_s={TimeoutSeconds}")]
    private partial void LogStopped(string containerId, int exitCode, double timeoutSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "container could not be stopped before its pod container={ContainerId} error={Error}")]
    private partial void LogStopFailed(string containerId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "container exited container={ContainerId} exit_code={ExitCode} signal={Signal} reason={Reason}")]
    private partial void LogExited(string containerId, int exitCode, int signal, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "container gone with its vm container={ContainerId} reason={Reason}")]
    private partial void LogGone(string containerId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "container removed container={ContainerId} sandbox={SandboxId}")]
    private partial void LogRemoved(string containerId, string sandboxId);

    [LoggerMessage(Level = LogLevel.Information, Message = "container resources updated container={ContainerId}")]
    private partial void LogResourcesUpdated(string containerId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "exec timed out and was killed container={ContainerId} command={Command} timeout_s={TimeoutSeconds}")]
    private partial void LogExecTimedOut(string containerId, string command, double timeoutSeconds);

    [LoggerMessage(Level = LogLevel.Debug, Message = "container watch waits for its guest container={ContainerId} error={Error}")]
    private partial void LogWatchRetry(string containerId, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "container watch failed id={Id} error={Error}")]
    private partial void LogWatchFailed(string id, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "container checkpoint problem: {Problem}")]
    private partial void LogCheckpointProblem(string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "host path made directory={Directory}")]
    private partial void LogHostPathMade(string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod left out of node statistics sandbox={SandboxId} error={Error}")]
    private partial void LogStatsLeftOut(string sandboxId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "containers recovered containers={Containers} watched={Running}")]
    private partial void LogRecovered(int containers, int running);
}
