using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Win32.SafeHandles;
using Spherelet.Crx.Guest;
using Spherelet.Crx.Native;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Containers;

/// <summary>
/// The containers of this pod VM. Bundles are written where the host says, containers are
/// made and run by crun, processes are reaped by CRX (PID 1) and their output goes to the
/// CRI log and, when attached, to the host. The process table keeps each exit status until
/// the container is removed.
/// </summary>
internal sealed class ContainerManager : IDisposable
{
    private readonly Crun _crun;
    private readonly string _stateDirectory;
    private readonly Func<Frame, Task> _send;
    private readonly ConcurrentDictionary<string, ContainerRecord> _containers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<ulong, GuestProcess> _byStream = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private long _consoles;

    public ContainerManager(Crun crun, string stateDirectory, Func<Frame, Task> send)
    {
        _crun = crun;
        _stateDirectory = stateDirectory;
        _send = send;
        Directory.CreateDirectory(Path.Combine(stateDirectory, "pids"));
        Directory.CreateDirectory(Path.Combine(stateDirectory, "exec"));
        Directory.CreateDirectory(Path.Combine(stateDirectory, "console"));
    }

    public void Dispose() => _gate.Dispose();

    public IReadOnlyCollection<ContainerRecord> Containers => (IReadOnlyCollection<ContainerRecord>)_containers.Values;

    public async Task<ProcessStarted> CreateAsync(ulong requestId, CreateContainer request)
    {
        ValidateId(request.ContainerId, "container_id");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (!Path.IsPathRooted(request.Bundle))
        {
            throw Invalid($"bundle '{request.Bundle}' must be an absolute path");
        }

        var stdio = request.Stdio ?? new Stdio();
        var (specObject, cgroupPath, rootPath) = PrepareSpec(request.OciSpec.ToByteArray(), request.ContainerId, stdio.Tty);
        await BlockDevices.ResolveAsync(specObject, "/sys/block", BlockDeviceWait);
        await GuestHugepages.EnsureAsync(specObject, "/sys/kernel/mm/hugepages/hugepages-2048kB", BlockDeviceWait);
        var spec = specObject.ToJsonString();
        var lowerDirs = request.Rootfs?.LowerDirs.ToList() ?? [];
        if (request.Rootfs is not null)
        {
            ValidateRootfs(lowerDirs, rootPath);
        }

        await _gate.WaitAsync();
        try
        {
            if (_containers.ContainsKey(request.ContainerId))
            {
                throw new CrxRequestException(CrxProtocol.Codes.AlreadyExists, $"container {request.ContainerId} already exists");
            }

            var prepared = System.Diagnostics.Stopwatch.GetTimestamp();
            var rootfs = request.Rootfs is null ? null : MountRootfs(request.ContainerId, lowerDirs, rootPath!);
            var mounted = System.Diagnostics.Stopwatch.GetTimestamp();
            var bundleExisted = Directory.Exists(request.Bundle);
            try
            {
                if (rootfs is not null && InUserNamespace(specObject))
                {
                    MountPoints.Prepare(rootPath!, specObject);
                }

                Directory.CreateDirectory(request.Bundle);
                await File.WriteAllTextAsync(Path.Combine(request.Bundle, "config.json"), spec);
            }
            catch
            {
                UnmountRootfs(rootfs);
                throw;
            }

            var pidFile = Path.Combine(_stateDirectory, "pids", request.ContainerId + ".pid");
            var process = await StartProcessAsync(
                requestId,
                request.ContainerId,
                string.Empty,
                stdio,
                ["create", "--bundle", request.Bundle, "--pid-file", pidFile, "--no-pivot", request.ContainerId],
                pidFile,
                onFailure: async () =>
                {
                    await TryDeleteAsync(request.ContainerId);
                    UnmountRootfs(rootfs);
                    if (!bundleExisted)
                    {
                        Directory.Delete(request.Bundle, recursive: true);
                    }
                    else
                    {
                        File.Delete(Path.Combine(request.Bundle, "config.json"));
                    }
                });
            var record = new ContainerRecord(request.ContainerId, request.Bundle, cgroupPath, process) { Rootfs = rootfs };
            _containers[request.ContainerId] = record;
            _ = WatchAsync(process, record);
            // Where a create's time goes in the VM: the spec (devices, hugepages), the rootfs mount, crun create.
            CrxLog.Info($"container created id={request.ContainerId} pid={process.Pid} prepare_ms={Ms(started, prepared)} rootfs_ms={Ms(prepared, mounted)} crun_ms={Ms(mounted, System.Diagnostics.Stopwatch.GetTimestamp())}");
            return new ProcessStarted { Pid = process.Pid };
        }
        finally
        {
            _gate.Release();
        }
    }

    private static long Ms(long from, long to) => (long)System.Diagnostics.Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    public async Task StartAsync(StartContainer request)
    {
        var record = Find(request.ContainerId);
        if (record.Started)
        {
            throw new CrxRequestException(CrxProtocol.Codes.FailedPrecondition, $"container {record.Id} was started already");
        }

        record.Main.StartedAt = UnixNanos();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await _crun.RunQuietAsync(record.Id, "start", record.Id);
        record.Started = true;
        CrxLog.Info($"container started id={record.Id} crun_ms={Ms(started, System.Diagnostics.Stopwatch.GetTimestamp())}");
    }

    public async Task<ProcessStarted> ExecAsync(ulong requestId, ExecProcess request)
    {
        var record = Find(request.ContainerId);
        ValidateId(request.ExecId, "exec_id");
        if (!record.Started || record.Main.HasExited)
        {
            throw new CrxRequestException(CrxProtocol.Codes.FailedPrecondition, $"container {record.Id} is not running");
        }

        var stdio = request.Stdio ?? new Stdio();
        JsonObject processJson;
        try
        {
            processJson = JsonNode.Parse(request.OciProcess.ToStringUtf8()) as JsonObject ?? throw Invalid("oci_process is not a JSON object");
        }
        catch (System.Text.Json.JsonException e)
        {
            throw Invalid("oci_process is not JSON: " + e.Message);
        }

        processJson["terminal"] = stdio.Tty;

        if (!record.Execs.TryAdd(request.ExecId, null!))
        {
            throw new CrxRequestException(CrxProtocol.Codes.AlreadyExists, $"exec {request.ExecId} already exists in container {record.Id}");
        }

        var processFile = Path.Combine(_stateDirectory, "exec", $"{record.Id}.{request.ExecId}.json");
        var pidFile = Path.Combine(_stateDirectory, "pids", $"{record.Id}.{request.ExecId}.pid");
        await File.WriteAllTextAsync(processFile, processJson.ToJsonString());
        try
        {
            var process = await StartProcessAsync(
                requestId,
                record.Id,
                request.ExecId,
                stdio,
                ["exec", "--detach", "--pid-file", pidFile, "--process", processFile, record.Id],
                pidFile,
                onFailure: () => Task.CompletedTask);
            process.StartedAt = UnixNanos();
            record.Execs[request.ExecId] = process;
            _ = WatchAsync(process, null);
            return new ProcessStarted { Pid = process.Pid };
        }
        catch (CrxRequestException e) when (ExecFailure.FromCrun(e.Message) is { } failure)
        {
            var process = await FailedExecAsync(requestId, record.Id, request.ExecId, stdio, failure.ExitCode, failure.Stderr);
            record.Execs[request.ExecId] = process;
            CrxLog.Info($"exec could not run container={record.Id} exec={request.ExecId} code={failure.ExitCode} reason={failure.Stderr.Trim()}");
            return new ProcessStarted { Pid = 0 };
        }
        catch
        {
            record.Execs.TryRemove(request.ExecId, out _);
            throw;
        }
        finally
        {
            File.Delete(processFile);
        }
    }

    /// <summary>An exec whose command could not be run: it has exited with <paramref name="exitCode"/>, <paramref name="message"/> its only output (stderr, or the terminal).</summary>
    private async Task<GuestProcess> FailedExecAsync(ulong requestId, string containerId, string execId, Stdio stdio, int exitCode, string message)
    {
        var process = new GuestProcess(containerId, execId, stdio.StdinOnce, null, _send);
        if (stdio.Attach && process.Attach(requestId))
        {
            _byStream[requestId] = process;
        }

        using var stdout = Pipe.Create();
        using var stderr = Pipe.Create();
        var text = stdio.Tty ? message.Replace("\n", "\r\n", StringComparison.Ordinal) : message;
        using (var writer = (stdio.Tty ? stdout : stderr).TakeWriter())
        {
            await writer.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text));
        }

        stdout.CloseWrite();
        stderr.CloseWrite();
        process.StartPumps(stdout.TakeReader(), stderr.TakeReader());
        process.StartedAt = UnixNanos();
        process.ExitedAtMonotonic = System.Diagnostics.Stopwatch.GetTimestamp();
        _ = CompleteAsync(process, new ProcessExit { ExitCode = exitCode, StartedAt = process.StartedAt, FinishedAt = UnixNanos() });
        return process;
    }

    /// <summary>Records the process's exit (its attached streams are told) and forgets its streams.</summary>
    private async Task CompleteAsync(GuestProcess process, ProcessExit exit)
    {
        await process.CompleteAsync(exit);
        foreach (var stream in process.Streams)
        {
            _byStream.TryRemove(stream, out _);
        }
    }

    private static bool InUserNamespace(JsonObject spec) =>
        spec["linux"]?["namespaces"] is JsonArray namespaces && namespaces.Any(n => (string?)n?["type"] == "user");

    public void Signal(SignalProcess request)
    {
        var process = FindProcess(request.ContainerId, request.ExecId);
        if (request.Signal <= 0 || request.Signal > 64)
        {
            throw Invalid($"signal {request.Signal} is not a signal number");
        }

        if (process.HasExited || process.Pid <= 0)
        {
            return;
        }

        var handledBefore = ProcessSignals.Disposition(process.Pid, request.Signal);
        if (Sys.kill(process.Pid, request.Signal) != 0)
        {
            CrxLog.Warn($"kill {process.Pid} {request.Signal}: {Sys.LastError()}");
            return;
        }

        // A container's first process is its PID namespace's init: the kernel drops a signal
        // it has not set a handler for yet (a stop that comes right after the start, while it
        // is still starting). Send it again once the process handles it.
        if (request.ExecId.Length == 0 && handledBefore == SignalDisposition.Default)
        {
            _ = SignalWhenHandledAsync(process, request.Signal);
        }
    }

    /// <summary>How long a dropped stop signal is retried while the process starts up.</summary>
    private static readonly TimeSpan SignalRetryWindow = TimeSpan.FromSeconds(30);

    private static async Task SignalWhenHandledAsync(GuestProcess process, int signal)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (!process.HasExited && System.Diagnostics.Stopwatch.GetElapsedTime(started) < SignalRetryWindow)
        {
            await Task.WhenAny(process.Exit, Task.Delay(TimeSpan.FromMilliseconds(100)));
            switch (ProcessSignals.Disposition(process.Pid, signal))
            {
                case SignalDisposition.Handled when !process.HasExited:
                    CrxLog.Info($"signal {signal} sent again to pid {process.Pid}: it handles it now");
                    Sys.kill(process.Pid, signal);
                    return;
                case SignalDisposition.Ignored or SignalDisposition.Gone:
                    return;
            }
        }
    }

    /// <summary>The process's exit, with how long ago it happened (see <see cref="ProcessExit.FinishedAgoNs"/>).</summary>
    public async Task<ProcessExit> WaitAsync(WaitProcess request, CancellationToken cancellationToken)
    {
        var process = FindProcess(request.ContainerId, request.ExecId);
        var answer = (await process.Exit.WaitAsync(cancellationToken)).Clone();
        answer.FinishedAgoNs = (long)System.Diagnostics.Stopwatch.GetElapsedTime(process.ExitedAtMonotonic).TotalNanoseconds;
        return answer;
    }

    public void CloseStdin(CloseStdin request) => FindProcess(request.ContainerId, request.ExecId).CloseStdinAfterQueued();

    /// <summary>Streams a running process's output and exit to <paramref name="streamId"/>.</summary>
    public ProcessStarted Attach(ulong streamId, AttachProcess request)
    {
        var process = FindProcess(request.ContainerId, request.ExecId);
        if (!process.Attach(streamId))
        {
            throw new CrxRequestException(
                CrxProtocol.Codes.FailedPrecondition,
                $"process {Describe(request.ContainerId, request.ExecId)} has exited or stream {streamId} is attached already");
        }

        _byStream[streamId] = process;
        return new ProcessStarted { Pid = process.Pid };
    }

    /// <summary>Ends one attached stream.</summary>
    public void Detach(ulong streamId)
    {
        if (_byStream.TryRemove(streamId, out var process))
        {
            process.Detach(streamId);
        }
    }

    /// <summary>Ends every attached stream: the host that owned them is gone. Processes go on.</summary>
    public void DetachAll()
    {
        foreach (var streamId in _byStream.Keys)
        {
            Detach(streamId);
        }
    }

    public void Resize(ResizeTerminal request)
    {
        var process = FindProcess(request.ContainerId, request.ExecId);
        if (request.Width is 0 or > ushort.MaxValue || request.Height is 0 or > ushort.MaxValue)
        {
            throw Invalid($"terminal size {request.Width}x{request.Height} must be 1 to 65535 columns and rows");
        }

        if (!process.Resize((ushort)request.Width, (ushort)request.Height))
        {
            throw new CrxRequestException(
                CrxProtocol.Codes.FailedPrecondition, $"process {Describe(request.ContainerId, request.ExecId)} has no terminal");
        }
    }

    /// <summary>Stdin from the host on an attached stream, queued for the process.</summary>
    public void OnStdin(ulong streamId, StreamData data)
    {
        if (_byStream.TryGetValue(streamId, out var process))
        {
            process.EnqueueStdin(streamId, data);
        }
    }

    /// <summary>The host's credit for an attached stream's output.</summary>
    public void OnCredit(ulong streamId, ulong bytes)
    {
        if (_byStream.TryGetValue(streamId, out var process))
        {
            process.Credit(streamId, bytes);
        }
    }

    public async Task RemoveAsync(RemoveContainer request)
    {
        if (!_containers.TryGetValue(request.ContainerId, out var record))
        {
            return;
        }

        foreach (var process in record.Execs.Values.Append(record.Main).Where(p => p is not null && !p.HasExited && p.Pid > 0))
        {
            Sys.kill(process.Pid, Sys.SIGKILL);
        }

        await Task.WhenAny(record.Main.Exit, Task.Delay(TimeSpan.FromSeconds(5)));
        await TryDeleteAsync(record.Id);
        UnmountRootfs(record.Rootfs);
        record.Main.Log?.Spool.Complete();
        _containers.TryRemove(record.Id, out _);
        File.Delete(Path.Combine(record.Bundle, "config.json"));
        ForgetFiles(record);
        CrxLog.Info($"container removed id={record.Id}");
    }

    /// <summary>The container's pid files and its bundle directory, empty by now (never recursively: a rootfs left mounted stays).</summary>
    private void ForgetFiles(ContainerRecord record)
    {
        foreach (var pidFile in Directory.EnumerateFiles(Path.Combine(_stateDirectory, "pids"), record.Id + ".*"))
        {
            File.Delete(pidFile);
        }

        try
        {
            Directory.Delete(record.Bundle, recursive: false);
        }
        catch (IOException e)
        {
            CrxLog.Warn($"container {record.Id}: {record.Bundle} is left: {e.Message}");
        }
    }

    /// <summary>The log spool of a container's main process.</summary>
    /// <exception cref="CrxRequestException">NOT_FOUND: no such container; FAILED_PRECONDITION: it keeps no log.</exception>
    public LogSpool SpoolOf(string containerId)
    {
        var record = Find(containerId);
        return record.Main.Log?.Spool ?? throw new CrxRequestException(CrxProtocol.Codes.FailedPrecondition, $"container {record.Id} keeps no log");
    }

    public async Task UpdateResourcesAsync(UpdateResources request)
    {
        var record = Find(request.ContainerId);
        if (request.OnlineCpus > 0)
        {
            await CpuHotplug.OnlineAsync((int)request.OnlineCpus, TimeSpan.FromSeconds(5));
        }

        var file = Path.Combine(_stateDirectory, $"{record.Id}.resources.json");
        await File.WriteAllBytesAsync(file, request.OciResources.ToByteArray());
        try
        {
            await _crun.RunQuietAsync(record.Id, "update", "--resources", file, record.Id);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Kills every container process (shutdown).</summary>
    public void KillAll()
    {
        foreach (var record in _containers.Values)
        {
            foreach (var process in record.Execs.Values.Append(record.Main).Where(p => p is not null && !p.HasExited && p.Pid > 0))
            {
                Sys.kill(process.Pid, Sys.SIGKILL);
            }
        }
    }

    private async Task<GuestProcess> StartProcessAsync(
        ulong requestId, string containerId, string execId, Stdio stdio, string[] crunArgs, string pidFile, Func<Task> onFailure)
    {
        var log = stdio.Log ? new CriLogLines(new LogSpool(stdio.LogSpoolBytes > 0 ? (long)stdio.LogSpoolBytes : LogSpool.DefaultCapacityBytes)) : null;
        var process = new GuestProcess(containerId, execId, stdio.StdinOnce, log, _send);
        // Attached before the process starts: an exec that writes and exits at once loses nothing.
        if (stdio.Attach && process.Attach(requestId))
        {
            _byStream[requestId] = process;
        }

        try
        {
            File.Delete(pidFile);
            if (stdio.Tty)
            {
                await StartOnTerminalAsync(process, containerId, stdio, crunArgs);
            }
            else
            {
                await StartOnPipesAsync(process, containerId, stdio, crunArgs);
            }

            process.Pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        }
        catch
        {
            _byStream.TryRemove(requestId, out _);
            process.CloseStdin();
            log?.Spool.Complete();
            await onFailure();
            throw;
        }

        return process;
    }

    private async Task StartOnPipesAsync(GuestProcess process, string containerId, Stdio stdio, string[] crunArgs)
    {
        using var stdin = stdio.Stdin ? Pipe.Create() : null;
        using var stdout = Pipe.Create();
        using var stderr = Pipe.Create();
        var devNull = Sys.open("/dev/null", Sys.O_RDWR | Sys.O_CLOEXEC, 0);
        try
        {
            await _crun.RunAsync(containerId, crunArgs, stdin?.ReadFd ?? devNull, stdout.WriteFd, stderr.WriteFd);
        }
        finally
        {
            Sys.close(devNull);
        }

        stdin?.CloseRead();
        stdout.CloseWrite();
        stderr.CloseWrite();
        process.SetStdin(stdin?.TakeWriter());
        process.StartPumps(stdout.TakeReader(), stderr.TakeReader());
    }

    /// <summary>crun makes the pseudo-terminal in the container and sends its master over a console socket.</summary>
    private async Task StartOnTerminalAsync(GuestProcess process, string containerId, Stdio stdio, string[] crunArgs)
    {
        var socketPath = Path.Combine(_stateDirectory, "console", Interlocked.Increment(ref _consoles).ToString(CultureInfo.InvariantCulture) + ".sock");
        using var console = ConsoleSocket.Listen(socketPath);
        using var stop = new CancellationTokenSource();
        var received = console.ReceiveAsync(stop.Token);
        string[] args = [crunArgs[0], "--console-socket", socketPath, .. crunArgs[1..]];
        try
        {
            await _crun.RunQuietAsync(containerId, args);
        }
        catch
        {
            await stop.CancelAsync();
            try
            {
                Sys.close(await received);
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or SocketException)
            {
            }

            throw;
        }

        int master;
        try
        {
            master = await received.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (TimeoutException)
        {
            await stop.CancelAsync();
            throw new CrxRequestException(CrxProtocol.Codes.Internal, $"crun {crunArgs[0]} {containerId} sent no terminal");
        }

        var output = new FileStream(new SafeFileHandle(master, ownsHandle: true), FileAccess.Read, 1);
        if (stdio.Stdin)
        {
            process.SetStdin(new FileStream(new SafeFileHandle(Duplicate(master), ownsHandle: true), FileAccess.Write, 1));
        }

        process.StartTerminal(output, Duplicate(master));
    }

    private static int Duplicate(int fd)
    {
        var copy = Sys.fcntl(fd, Sys.F_DUPFD_CLOEXEC, 3);
        return copy >= 0 ? copy : throw new IOException("fcntl(F_DUPFD_CLOEXEC) failed: " + Sys.LastError());
    }

    private async Task WatchAsync(GuestProcess process, ContainerRecord? container)
    {
        var status = await Reaper.WaitAsync(process.Pid);
        process.ExitedAtMonotonic = System.Diagnostics.Stopwatch.GetTimestamp();
        Reaper.Forget(process.Pid);
        var (code, signal) = Reaper.Decode(status);
        var exit = new ProcessExit
        {
            ExitCode = code,
            Signal = signal,
            StartedAt = process.StartedAt,
            FinishedAt = UnixNanos(),
            OomKilled = container is not null && signal == Sys.SIGKILL && CgroupReader.OomKills(container.CgroupPath) > 0,
        };
        await CompleteAsync(process, exit);
        CrxLog.Info($"process exited container={process.ContainerId} exec={process.ExecId} pid={process.Pid} code={code} signal={signal}");
    }

    private async Task TryDeleteAsync(string id)
    {
        try
        {
            await _crun.RunQuietAsync(id, "delete", "--force", id);
        }
        catch (CrxRequestException e)
        {
            CrxLog.Verbose($"crun delete {id}: {e.Message}");
        }
    }

    private ContainerRecord Find(string id) =>
        _containers.TryGetValue(id ?? string.Empty, out var record)
            ? record
            : throw new CrxRequestException(CrxProtocol.Codes.NotFound, $"container {id} does not exist");

    private GuestProcess FindProcess(string containerId, string execId)
    {
        var record = Find(containerId);
        if (string.IsNullOrEmpty(execId))
        {
            return record.Main;
        }

        return record.Execs.TryGetValue(execId, out var process) && process is not null
            ? process
            : throw new CrxRequestException(CrxProtocol.Codes.NotFound, $"exec {execId} does not exist in container {containerId}");
    }

    /// <summary>How long a create waits for a disk the host hot-plugged for it, or for hugepage memory (slow under TCG).</summary>
    private static readonly TimeSpan BlockDeviceWait = TimeSpan.FromSeconds(30);

    private static (JsonObject Spec, string CgroupPath, string? RootPath) PrepareSpec(byte[] json, string containerId, bool tty)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw Invalid("oci_spec is not JSON: " + e.Message);
        }

        if (root is not JsonObject spec)
        {
            throw Invalid("oci_spec is not a JSON object");
        }

        if (spec["linux"] is not JsonObject linux)
        {
            linux = new JsonObject();
            spec["linux"] = linux;
        }

        if (spec["process"] is JsonObject processJson)
        {
            processJson["terminal"] = tty;
        }

        var cgroupPath = linux["cgroupsPath"]?.GetValue<string>();
        if (string.IsNullOrEmpty(cgroupPath))
        {
            cgroupPath = "/spherelet/" + containerId;
            linux["cgroupsPath"] = cgroupPath;
        }

        var rootPath = (spec["root"] as JsonObject)?["path"]?.GetValue<string>();
        return (spec, cgroupPath, rootPath);
    }

    private static void ValidateRootfs(List<string> lowerDirs, string? rootPath)
    {
        if (lowerDirs.Count == 0)
        {
            throw Invalid("rootfs needs at least one lower directory");
        }

        if (rootPath is null || !Path.IsPathRooted(rootPath))
        {
            throw Invalid($"the spec's root.path '{rootPath}' must be an absolute path for a rootfs CRX mounts");
        }

        foreach (var dir in lowerDirs)
        {
            if (!Path.IsPathRooted(dir) || dir.Contains(':', StringComparison.Ordinal) || dir.Contains(',', StringComparison.Ordinal) || !Directory.Exists(dir))
            {
                throw Invalid($"rootfs lower directory '{dir}' must be an existing absolute path without ':' or ','");
            }
        }
    }

    /// <summary>Mounts overlay(lower dirs, the container's own upper dir) at <paramref name="target"/>.</summary>
    private RootfsMount MountRootfs(string containerId, List<string> lowerDirs, string target)
    {
        var directory = Path.Combine(_stateDirectory, "containers", containerId);
        var upper = Path.Combine(directory, "upper");
        var work = Path.Combine(directory, "work");
        Directory.CreateDirectory(upper);
        Directory.CreateDirectory(work);
        Directory.CreateDirectory(target);
        // overlayfs lists the top layer first.
        var options = $"lowerdir={string.Join(':', Enumerable.Reverse(lowerDirs))},upperdir={upper},workdir={work},userxattr";
        if (Sys.mount("overlay", target, "overlay", 0, options) != 0)
        {
            var error = Sys.LastError();
            Directory.Delete(directory, recursive: true);
            throw new CrxRequestException(CrxProtocol.Codes.Internal, $"overlay mount of the rootfs of {containerId} failed: {error}");
        }

        CrxLog.Verbose($"rootfs mounted container={containerId} target={target} layers={lowerDirs.Count}");
        return new RootfsMount(target, directory);
    }

    private static void UnmountRootfs(RootfsMount? rootfs)
    {
        if (rootfs is null)
        {
            return;
        }

        if (Sys.umount2(rootfs.Target, Sys.MNT_DETACH) != 0)
        {
            CrxLog.Warn($"umount {rootfs.Target}: {Sys.LastError()}");
        }

        try
        {
            Directory.Delete(rootfs.Directory, recursive: true);
            Directory.Delete(rootfs.Target);
        }
        catch (IOException e)
        {
            CrxLog.Warn($"cleanup of {rootfs.Directory}: {e.Message}");
        }
    }

    private static void ValidateId(string id, string field)
    {
        if (string.IsNullOrEmpty(id) || id.Length > 128 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || id.StartsWith('.'))
        {
            throw Invalid($"{field} '{id}' must be 1 to 128 characters of letters, digits, '-', '_' and '.'");
        }
    }

    private static string Describe(string containerId, string execId) =>
        string.IsNullOrEmpty(execId) ? containerId : $"{containerId}/{execId}";

    private static CrxRequestException Invalid(string message) => new(CrxProtocol.Codes.InvalidArgument, message);

    private static long UnixNanos() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
}
