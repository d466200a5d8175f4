using Google.Protobuf;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Vmm;

namespace Spherelet.Guest;

/// <summary>The domain's containers (<see cref="IGuestContainers"/>) over each pod's CRX connection (<see cref="GuestConnections"/>).</summary>
public sealed class GuestContainers : IGuestContainers
{
    /// <summary>The most network interfaces a guest's statistics may name.</summary>
    public const int MaxInterfaces = 64;

    private const int SigKill = 9;

    private readonly GuestConnections _connections;
    private readonly GuestEndpoints _endpoints;

    /// <param name="connections">The pods' CRX connections.</param>
    /// <param name="endpoints">Where each pod's CRX is, as its backend registered it.</param>
    public GuestContainers(GuestConnections connections, GuestEndpoints endpoints)
    {
        _connections = connections;
        _endpoints = endpoints;
    }

    /// <summary>The pod's connection, opened to the endpoint its backend registered when none is open.</summary>
    private Task<GuestConnection> ConnectionAsync(string sandboxId, CancellationToken cancellationToken) =>
        _connections.GetAsync(sandboxId, _endpoints.Get(sandboxId).ChannelSocketPath, cancellationToken);

    public async Task<int> CreateAsync(string sandboxId, GuestContainerCreate create, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(create);
        var connection = await ConnectionAsync(sandboxId, cancellationToken);
        return await connection.CreateContainerAsync(
            new CreateContainer
            {
                ContainerId = create.ContainerId,
                Bundle = create.Bundle,
                OciSpec = ByteString.CopyFrom(create.Spec.Span),
                Stdio = new Stdio { Stdin = create.Stdin, StdinOnce = create.StdinOnce, Tty = create.Tty, Log = create.LogSpoolBytes > 0, LogSpoolBytes = (ulong)Math.Max(0, create.LogSpoolBytes) },
                Rootfs = new Rootfs { LowerDirs = { create.LayerDirectories } },
            },
            cancellationToken);
    }

    public async Task StartAsync(string sandboxId, string containerId, CancellationToken cancellationToken) =>
        await (await ConnectionAsync(sandboxId, cancellationToken)).StartContainerAsync(containerId, cancellationToken);

    public async Task SignalAsync(string sandboxId, string containerId, int signal, CancellationToken cancellationToken) =>
        await (await ConnectionAsync(sandboxId, cancellationToken)).SignalAsync(containerId, string.Empty, signal, cancellationToken);

    public async Task<ContainerExit> WaitAsync(string sandboxId, string containerId, CancellationToken cancellationToken)
    {
        var connection = await ConnectionAsync(sandboxId, cancellationToken);
        return ToExit(await connection.WaitAsync(containerId, string.Empty, cancellationToken));
    }

    public async Task RemoveAsync(string sandboxId, string containerId, CancellationToken cancellationToken) =>
        await (await ConnectionAsync(sandboxId, cancellationToken)).RemoveContainerAsync(containerId, cancellationToken);

    public async Task<ExecResult> ExecSyncAsync(
        string sandboxId,
        string containerId,
        string execId,
        ReadOnlyMemory<byte> processJson,
        int maxOutputBytes,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var connection = await ConnectionAsync(sandboxId, cancellationToken);
        // Not cancelled half-way: a start cut short leaves the process running with nobody to kill it;
        // a caller that has gone meanwhile has it killed below.
        var process = await connection.ExecAsync(
            new ExecProcess { ContainerId = containerId, ExecId = execId, OciProcess = ByteString.CopyFrom(processJson.Span), Stdio = new Stdio() },
            CancellationToken.None);
        var stdout = new CappedBuffer(maxOutputBytes);
        var stderr = new CappedBuffer(maxOutputBytes);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout > TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            deadline.CancelAfter(timeout);
        }

        var timedOut = false;
        try
        {
            await foreach (var chunk in process.Output.ReadAllAsync(deadline.Token))
            {
                (chunk.Kind == StreamKind.Stderr ? stderr : stdout).Append(chunk.Data.Span);
            }
        }
        catch (OperationCanceledException)
        {
            // The timeout, or the caller has gone: either way the process is killed below.
            timedOut = !cancellationToken.IsCancellationRequested;
        }
        catch (Exception e) when (GuestErrors.Translate(e, sandboxId) is { } translated)
        {
            throw translated;
        }

        if (timedOut || cancellationToken.IsCancellationRequested)
        {
            // The caller stops waiting: the process must not outlive the call.
            await connection.SignalAsync(containerId, execId, SigKill, CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
        }

        var exit = await GuestErrors.GuardAsync(() => process.Exited.WaitAsync(cancellationToken), sandboxId);

        return new ExecResult(stdout.ToArray(), stderr.ToArray(), exit.ExitCode, timedOut);
    }

    public async Task<IInteractiveProcess> ExecInteractiveAsync(
        string sandboxId, string containerId, string execId, ReadOnlyMemory<byte> processJson, bool tty, bool stdin, CancellationToken cancellationToken)
    {
        var connection = await ConnectionAsync(sandboxId, cancellationToken);
        var process = await connection.ExecAsync(
            new ExecProcess { ContainerId = containerId, ExecId = execId, OciProcess = ByteString.CopyFrom(processJson.Span), Stdio = new Stdio { Stdin = stdin, Tty = tty } },
            cancellationToken);
        return new GuestInteractiveProcess(connection, process, sandboxId, exec: true, tty);
    }

    public async Task<IInteractiveProcess> AttachAsync(string sandboxId, string containerId, bool tty, CancellationToken cancellationToken)
    {
        var connection = await ConnectionAsync(sandboxId, cancellationToken);
        var process = await connection.AttachAsync(containerId, string.Empty, cancellationToken);
        return new GuestInteractiveProcess(connection, process, sandboxId, exec: false, tty);
    }

    public async Task UpdateResourcesAsync(
        string sandboxId, string containerId, ReadOnlyMemory<byte> resourcesJson, int onlineCpus, CancellationToken cancellationToken) =>
        await (await ConnectionAsync(sandboxId, cancellationToken)).UpdateResourcesAsync(containerId, resourcesJson, onlineCpus, cancellationToken);

    public async Task<IGuestLog> FollowLogAsync(string sandboxId, string containerId, uint windowBytes, CancellationToken cancellationToken) =>
        await (await ConnectionAsync(sandboxId, cancellationToken)).FollowLogAsync(containerId, windowBytes, cancellationToken);

    public async Task<PodUsage> StatsAsync(string sandboxId, IReadOnlyCollection<string> containerIds, CancellationToken cancellationToken)
    {
        var connection = await ConnectionAsync(sandboxId, cancellationToken);
        var reply = await connection.StatsAsync(containerIds, cancellationToken);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var container in reply.Containers)
        {
            // The guest's answer is checked, not trusted: a lie fails this pod's statistics only.
            if (!seen.Add(container.ContainerId))
            {
                throw new GuestOperationFailedException($"pod {sandboxId}: the guest's statistics name container '{container.ContainerId}' twice");
            }

            if (containerIds.Count > 0 && !containerIds.Contains(container.ContainerId))
            {
                throw new GuestOperationFailedException($"pod {sandboxId}: the guest's statistics name container '{container.ContainerId}', which was not asked for");
            }
        }

        return new PodUsage(
            ToUsage(reply.Vm ?? new CgroupStats(), 0, 0),
            reply.VmMemoryTotalBytes,
            reply.Containers.ToDictionary(c => c.ContainerId, c => ToUsage(c.Stats ?? new CgroupStats(), c.WritableBytes, c.WritableInodes), StringComparer.Ordinal))
        {
            Interfaces = CheckedInterfaces(sandboxId, reply.Interfaces),
        };
    }

    /// <summary>
    /// The guest's interfaces, checked: their names become metric label values, so only what a
    /// Linux interface can be named (1 to 15 printable ASCII characters, no slash, colon, quote,
    /// backslash or space), each once, and at most <see cref="MaxInterfaces"/> of them.
    /// </summary>
    internal static IReadOnlyList<InterfaceUsage> CheckedInterfaces(string sandboxId, IReadOnlyCollection<InterfaceStats> interfaces)
    {
        if (interfaces.Count > MaxInterfaces)
        {
            throw new GuestOperationFailedException($"pod {sandboxId}: the guest's statistics name {interfaces.Count} network interfaces (at most {MaxInterfaces})");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var nic in interfaces)
        {
            if (nic.Name.Length is 0 or > 15 || nic.Name.Any(c => c is <= ' ' or > '~' or '/' or ':' or '"' or '\\') || !names.Add(nic.Name))
            {
                throw new GuestOperationFailedException($"pod {sandboxId}: the guest's statistics name a network interface that cannot be one, or one twice");
            }
        }

        return interfaces.Select(n => new InterfaceUsage(n.Name, n.RxBytes, n.RxPackets, n.RxErrors, n.RxDropped, n.TxBytes, n.TxPackets, n.TxErrors, n.TxDropped)).ToList();
    }

    private static ContainerExit ToExit(ProcessExit exit) =>
        new(exit.ExitCode, exit.Signal, exit.OomKilled, exit.StartedAt, exit.FinishedAt, TimeSpan.FromTicks(Math.Max(0, exit.FinishedAgoNs) / 100));

    private static ResourceUsage ToUsage(CgroupStats stats, ulong writableBytes, ulong writableInodes) =>
        new(stats.CpuUsageNs, stats.MemoryUsageBytes, stats.MemoryWorkingSetBytes, stats.Pids, stats.Timestamp, writableBytes, writableInodes)
        {
            CpuUserNanoseconds = stats.CpuUserNs,
            CpuSystemNanoseconds = stats.CpuSystemNs,
            CpuPeriods = stats.CpuPeriods,
            CpuThrottledPeriods = stats.CpuThrottledPeriods,
            CpuThrottledNanoseconds = stats.CpuThrottledNs,
            RssBytes = stats.MemoryRssBytes,
            CacheBytes = stats.MemoryCacheBytes,
            MappedFileBytes = stats.MemoryMappedFileBytes,
            SwapBytes = stats.MemorySwapBytes,
            MaxUsageBytes = stats.MemoryMaxUsageBytes,
            OomKills = stats.OomKills,
            PageFaults = stats.PageFaults,
            MajorPageFaults = stats.MajorPageFaults,
            IoReadBytes = stats.IoReadBytes,
            IoWriteBytes = stats.IoWriteBytes,
        };
}
