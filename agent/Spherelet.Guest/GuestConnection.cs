using Google.Protobuf;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Guest;

/// <summary>
/// One pod's open channel to its CRX. Every call is async and cancellable, and has a deadline
/// (<see cref="GuestChannelOptions.CallTimeout"/>; waiting for an exit aside): a guest that does
/// not answer costs the caller that much and no more. CRX's errors, a lost channel and a missed
/// deadline come out as the domain's typed errors (<see cref="GuestErrors"/>). Closing the
/// connection (an agent stopping) leaves the guest's processes running.
/// </summary>
public sealed class GuestConnection : IAsyncDisposable
{
    private readonly CrxClient _client;
    private readonly TimeSpan _callTimeout;

    internal GuestConnection(string podId, CrxClient client, TimeSpan callTimeout)
    {
        PodId = podId;
        _client = client;
        _callTimeout = callTimeout;
    }

    public string PodId { get; }

    /// <summary>What CRX said at Hello: its version, kernel release, boot-to-ready time.</summary>
    public HelloReply Peer => _client.Peer;

    /// <summary>Completes when the channel closes, by either side or by a missed keepalive.</summary>
    public Task Closed => _client.Closed;

    public bool IsOpen => !_client.Closed.IsCompleted;

    internal CrxClient Client => _client;

    public Task<TimeSpan> PingAsync(CancellationToken cancellationToken) =>
        Deadline(deadline => _client.PingAsync(deadline), "Ping", cancellationToken);

    public Task ConfigureSandboxAsync(ConfigureSandbox sandbox, CancellationToken cancellationToken) =>
        CallAsync(new Request { ConfigureSandbox = sandbox }, cancellationToken);

    /// <summary>Creates a container; its output goes to its log only.</summary>
    public async Task<int> CreateContainerAsync(CreateContainer create, CancellationToken cancellationToken) =>
        (await CallAsync(new Request { CreateContainer = create }, cancellationToken)).Started.Pid;

    /// <summary>Creates a container whose main process's stdio is attached to the returned process.</summary>
    public Task<CrxProcess> CreateAttachedContainerAsync(CreateContainer create, CancellationToken cancellationToken) =>
        Deadline(deadline => _client.CreateAttachedAsync(create, deadline), "CreateAttached", cancellationToken);

    public Task StartContainerAsync(string containerId, CancellationToken cancellationToken) =>
        CallAsync(new Request { StartContainer = new StartContainer { ContainerId = containerId } }, cancellationToken);

    /// <summary>Signals a container's main process (<paramref name="execId"/> empty) or an exec.</summary>
    public Task SignalAsync(string containerId, string execId, int signal, CancellationToken cancellationToken) =>
        CallAsync(new Request { Signal = new SignalProcess { ContainerId = containerId, ExecId = execId, Signal = signal } }, cancellationToken);

    /// <summary>Waits for a process to exit; answers at once for one that has exited.</summary>
    public async Task<ProcessExit> WaitAsync(string containerId, string execId, CancellationToken cancellationToken) =>
        (await Guard(() => _client.CallAsync(new Request { Wait = new WaitProcess { ContainerId = containerId, ExecId = execId } }, cancellationToken))).Exit;

    /// <summary>Runs a process in a running container, its stdio attached to the returned process.</summary>
    public Task<CrxProcess> ExecAsync(ExecProcess exec, CancellationToken cancellationToken) =>
        Deadline(deadline => _client.ExecAsync(exec, deadline), "Exec", cancellationToken);

    /// <summary>Attaches to a running process: output from now on, stdin when open, its exit.</summary>
    public Task<CrxProcess> AttachAsync(string containerId, string execId, CancellationToken cancellationToken) =>
        Deadline(deadline => _client.AttachAsync(containerId, execId, deadline), "Attach", cancellationToken);

    /// <summary>Connects to a TCP port on the VM's loopback and relays it as a stream (see OpenPort in crx.proto).</summary>
    public Task<CrxProcess> OpenPortAsync(int port, CancellationToken cancellationToken) =>
        Deadline(deadline => _client.OpenPortAsync(port, deadline), "OpenPort", cancellationToken);

    public Task CloseStdinAsync(string containerId, string execId, CancellationToken cancellationToken) =>
        CallAsync(new Request { CloseStdin = new CloseStdin { ContainerId = containerId, ExecId = execId } }, cancellationToken);

    public Task ResizeTerminalAsync(string containerId, string execId, uint columns, uint rows, CancellationToken cancellationToken) =>
        CallAsync(
            new Request { Resize = new ResizeTerminal { ContainerId = containerId, ExecId = execId, Width = columns, Height = rows } },
            cancellationToken);

    /// <summary>cgroup statistics of the VM and of the given containers (every container when none is given).</summary>
    public async Task<StatsReply> StatsAsync(IEnumerable<string> containerIds, CancellationToken cancellationToken) =>
        (await CallAsync(new Request { Stats = new GetStats { ContainerIds = { containerIds } } }, cancellationToken)).Stats;

    /// <summary>Applies an OCI <c>linux.resources</c> object (JSON) to a container's cgroup, with <paramref name="onlineCpus"/> CPUs online first (0: as they are).</summary>
    public Task UpdateResourcesAsync(string containerId, ReadOnlyMemory<byte> ociResourcesJson, int onlineCpus, CancellationToken cancellationToken) =>
        CallAsync(
            new Request
            {
                UpdateResources = new UpdateResources
                {
                    ContainerId = containerId,
                    OciResources = ByteString.CopyFrom(ociResourcesJson.Span),
                    OnlineCpus = (uint)Math.Max(0, onlineCpus),
                },
            },
            cancellationToken);

    /// <summary>Follows a container's log spool: what is not acknowledged yet, then new output.</summary>
    public async Task<Domain.Containers.IGuestLog> FollowLogAsync(string containerId, uint windowBytes, CancellationToken cancellationToken) =>
        new GuestLog(await Deadline(deadline => _client.FollowLogAsync(containerId, windowBytes, deadline), "FollowLog", cancellationToken), PodId);

    /// <summary>Kills a container's processes and deletes it; removing one that does not exist succeeds.</summary>
    public Task RemoveContainerAsync(string containerId, CancellationToken cancellationToken) =>
        CallAsync(new Request { RemoveContainer = new RemoveContainer { ContainerId = containerId } }, cancellationToken);

    /// <summary>Asks CRX to stop every container and power the VM off (or reboot it).</summary>
    public Task ShutdownAsync(bool reboot, CancellationToken cancellationToken) =>
        CallAsync(new Request { Shutdown = new Shutdown { Reboot = reboot } }, cancellationToken);

    public ValueTask DisposeAsync() => _client.DisposeAsync();

    private Task<Response> CallAsync(Request request, CancellationToken cancellationToken) =>
        Deadline(deadline => _client.CallAsync(request, deadline), request.CallCase.ToString(), cancellationToken);

    /// <summary>Runs a call with the connection's deadline on top of the caller's cancellation.</summary>
    private async Task<T> Deadline<T>(Func<CancellationToken, Task<T>> call, string what, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_callTimeout);
        try
        {
            return await Guard(() => call(deadline.Token));
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new Domain.Errors.GuestUnavailableException($"pod {PodId}: the guest did not answer {what} within {_callTimeout.TotalSeconds:0.#} s");
        }
    }

    private Task<T> Guard<T>(Func<Task<T>> call) => GuestErrors.GuardAsync(call, PodId);
}
