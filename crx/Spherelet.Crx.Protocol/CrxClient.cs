using System.Collections.Concurrent;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Protocol;

/// <summary>
/// The host's end of the channel to one CRX: multiplexed, cancellable calls, attached
/// process streams, and loss detection (every pending call fails with
/// <see cref="CrxConnectionLostException"/> when the channel closes). Connecting again after
/// an agent restart disturbs nothing in the guest: processes and their logs go on.
/// </summary>
public sealed class CrxClient : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly FrameReader _reader;
    private readonly FrameWriter _writer;
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<Response>> _pending = new();
    private readonly ConcurrentDictionary<ulong, CrxProcess> _processes = new();
    private readonly ConcurrentDictionary<ulong, CrxLogFollower> _logs = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _readLoop;
    private long _nextId;
    private Exception? _lost;

    private CrxClient(Stream stream)
    {
        _stream = stream;
        _reader = new FrameReader(stream, skipTooLarge: false);
        _writer = new FrameWriter(stream);
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>CRX's answer to Hello.</summary>
    public HelloReply Peer { get; private set; } = new();

    /// <summary>Completes when the channel is closed, by either side.</summary>
    public Task Closed => _readLoop;

    /// <summary>
    /// Pings CRX at once and then every <paramref name="interval"/>; a guest that does not answer one
    /// within <paramref name="timeout"/> (hung, not just closed) is treated as gone: the channel is
    /// closed and every pending call fails with <see cref="CrxConnectionLostException"/>.
    /// </summary>
    /// <param name="answered">Told each answered ping's round-trip time.</param>
    public void StartKeepalive(TimeSpan interval, TimeSpan timeout, Action<TimeSpan>? answered = null)
    {
        _ = Task.Run(async () =>
        {
            var first = true;
            while (!_stop.IsCancellationRequested && _lost is null)
            {
                try
                {
                    if (!first)
                    {
                        await Task.Delay(interval, _stop.Token);
                    }

                    first = false;
                    using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                    deadline.CancelAfter(timeout);
                    var roundTrip = await PingAsync(deadline.Token);
                    answered?.Invoke(roundTrip);
                }
                catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
                {
                    _lost = new CrxConnectionLostException($"CRX did not answer a ping within {timeout.TotalSeconds:0.#} s");
                    await _stream.DisposeAsync();
                    return;
                }
                catch (Exception e) when (e is OperationCanceledException or CrxConnectionLostException)
                {
                    return;
                }
            }
        });
    }

    /// <summary>Starts reading the channel and exchanges Hello.</summary>
    /// <exception cref="CrxCallException">CRX speaks another protocol version.</exception>
    public static async Task<CrxClient> ConnectAsync(Stream stream, string hostVersion, CancellationToken cancellationToken)
    {
        var client = new CrxClient(stream);
        try
        {
            var response = await client.CallAsync(
                new Request
                {
                    Hello = new Hello
                    {
                        ProtocolVersion = CrxProtocol.Version,
                        HostVersion = hostVersion,
                        HostTimeUnixNanos = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100,
                    },
                },
                cancellationToken);
            if (response.Hello.ProtocolVersion != CrxProtocol.Version)
            {
                throw new CrxCallException(
                    CrxProtocol.Codes.VersionMismatch,
                    $"CRX speaks protocol {response.Hello.ProtocolVersion}, the host {CrxProtocol.Version}");
            }

            client.Peer = response.Hello;
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends one call and waits for its answer.</summary>
    /// <exception cref="CrxCallException">CRX answered with an error.</exception>
    /// <exception cref="CrxConnectionLostException">The channel closed first.</exception>
    public async Task<Response> CallAsync(Request request, CancellationToken cancellationToken)
    {
        var id = (ulong)Interlocked.Increment(ref _nextId);
        return await CallAsync(id, request, cancellationToken);
    }

    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await CallAsync(new Request { Ping = new Ping { HostTimeUnixNanos = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100 } }, cancellationToken);
        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Runs a process in a container with its stdio attached to the host.</summary>
    public Task<CrxProcess> ExecAsync(ExecProcess exec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(exec);
        exec.Stdio ??= new Stdio();
        exec.Stdio.Attach = true;
        return StartAttachedAsync(new Request { Exec = exec }, cancellationToken);
    }

    /// <summary>Creates a container whose main process's stdio is attached to the host.</summary>
    public Task<CrxProcess> CreateAttachedAsync(CreateContainer create, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(create);
        create.Stdio ??= new Stdio();
        create.Stdio.Attach = true;
        return StartAttachedAsync(new Request { CreateContainer = create }, cancellationToken);
    }

    /// <summary>
    /// Attaches to a running process (a container's main process when <paramref name="execId"/>
    /// is empty): its output from now on, its exit, and its stdin when that is open.
    /// </summary>
    public Task<CrxProcess> AttachAsync(string containerId, string execId, CancellationToken cancellationToken) =>
        StartAttachedAsync(new Request { Attach = new AttachProcess { ContainerId = containerId, ExecId = execId ?? string.Empty } }, cancellationToken);

    /// <summary>Connects to a TCP port on the VM's loopback: the returned stream carries the connection (stdin in, stdout out, exit at its end).</summary>
    public Task<CrxProcess> OpenPortAsync(int port, CancellationToken cancellationToken) =>
        StartAttachedAsync(new Request { OpenPort = new OpenPort { Port = (uint)port } }, cancellationToken);

    /// <summary>
    /// Follows a container's log: the entries CRX holds that are not acknowledged yet, then new
    /// ones, at most <paramref name="windowBytes"/> of content unacknowledged.
    /// </summary>
    public async Task<CrxLogFollower> FollowLogAsync(string containerId, uint windowBytes, CancellationToken cancellationToken)
    {
        var id = (ulong)Interlocked.Increment(ref _nextId);
        var stream = new CrxLogFollower(this, id, containerId, windowBytes);
        _logs[id] = stream;
        try
        {
            await CallAsync(id, new Request { FollowLog = new FollowLog { ContainerId = containerId, WindowBytes = windowBytes } }, cancellationToken);
            return stream;
        }
        catch
        {
            _logs.TryRemove(id, out _);
            throw;
        }
    }

    internal async Task StopLogAsync(CrxLogFollower stream)
    {
        if (_logs.TryRemove(stream.StreamId, out _) && _lost is null)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await CallAsync(new Request { Detach = new DetachStream { StreamId = stream.StreamId } }, timeout.Token);
            }
            catch (Exception e) when (e is CrxCallException or CrxConnectionLostException or OperationCanceledException)
            {
                // The stream ends with the channel anyway.
            }
        }
    }

    private async Task DetachQuietlyAsync(ulong streamId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await CallAsync(new Request { Detach = new DetachStream { StreamId = streamId } }, timeout.Token);
        }
        catch (Exception e) when (e is CrxCallException or CrxConnectionLostException or OperationCanceledException)
        {
        }
    }

    internal async Task DetachAsync(CrxProcess process, CancellationToken cancellationToken)
    {
        if (_processes.TryRemove(process.StreamId, out _))
        {
            await CallAsync(new Request { Detach = new DetachStream { StreamId = process.StreamId } }, cancellationToken);
            process.OnDetached();
        }
    }

    internal Task SendStreamAsync(ulong streamId, StreamData data, CancellationToken cancellationToken) =>
        SendAsync(new Frame { Id = streamId, Data = data }, cancellationToken);

    /// <summary>Tells CRX the host has taken <paramref name="bytes"/> more of the stream's output; a lost channel is fine.</summary>
    internal async Task SendCreditAsync(ulong streamId, ulong bytes)
    {
        try
        {
            await SendAsync(new Frame { Id = streamId, Credit = new StreamCredit { Bytes = bytes } }, CancellationToken.None);
        }
        catch (CrxConnectionLostException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _stream.DisposeAsync();
        try
        {
            await _readLoop;
        }
        catch (OperationCanceledException)
        {
        }

        _writer.Dispose();
        _stop.Dispose();
    }

    private async Task<CrxProcess> StartAttachedAsync(Request request, CancellationToken cancellationToken)
    {
        var id = (ulong)Interlocked.Increment(ref _nextId);
        var process = request.CallCase switch
        {
            Request.CallOneofCase.Exec => new CrxProcess(this, id, request.Exec.ContainerId, request.Exec.ExecId),
            Request.CallOneofCase.CreateContainer => new CrxProcess(this, id, request.CreateContainer.ContainerId, string.Empty),
            Request.CallOneofCase.OpenPort => new CrxProcess(this, id, string.Empty, string.Empty),
            _ => new CrxProcess(this, id, request.Attach.ContainerId, request.Attach.ExecId),
        };
        _processes[id] = process;
        try
        {
            var response = await CallAsync(id, request, cancellationToken);
            process.Pid = response.Started?.Pid ?? 0;
            return process;
        }
        catch
        {
            _processes.TryRemove(id, out _);
            throw;
        }
    }

    private async Task<Response> CallAsync(ulong id, Request request, CancellationToken cancellationToken)
    {
        var answer = new TaskCompletionSource<Response>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        try
        {
            if (_lost is { } lost)
            {
                throw new CrxConnectionLostException("the channel to CRX is closed", lost);
            }

            await SendAsync(new Frame { Id = id, Request = request }, cancellationToken);
            var response = await answer.Task.WaitAsync(cancellationToken);
            if (response.Error is { } error)
            {
                throw new CrxCallException(error.Code, error.Message);
            }

            return response;
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    private async Task SendAsync(Frame frame, CancellationToken cancellationToken)
    {
        try
        {
            await _writer.WriteAsync(frame, cancellationToken);
        }
        catch (IOException e)
        {
            throw new CrxConnectionLostException("cannot write to the channel to CRX", e);
        }
        catch (ObjectDisposedException e)
        {
            throw new CrxConnectionLostException("the channel to CRX is closed", e);
        }
    }

    private async Task ReadLoopAsync()
    {
        Exception reason = new CrxConnectionLostException("CRX closed the channel");
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync(_stop.Token);
                if (result.EndOfStream)
                {
                    break;
                }

                if (result.Frame is not { } frame)
                {
                    // CRX never sends a frame that is too large or does not parse: a guest that
                    // does is not CRX, and its channel is closed rather than read on.
                    reason = new CrxConnectionLostException($"CRX sent a bad frame ({result.ErrorCode}: {result.ErrorMessage}); the channel is closed");
                    break;
                }

                Dispatch(frame);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            reason = new CrxConnectionLostException("the channel to CRX broke: " + e.Message, e);
        }
        finally
        {
            _lost ??= reason;
            reason = _lost;
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(reason);
            }

            foreach (var process in _processes.Values)
            {
                process.OnLost(reason);
            }

            foreach (var log in _logs.Values)
            {
                log.OnLost(reason);
            }
        }
    }

    private void Dispatch(Frame frame)
    {
        switch (frame.BodyCase)
        {
            case Frame.BodyOneofCase.Response:
                if (_pending.TryGetValue(frame.Id, out var pending))
                {
                    pending.TrySetResult(frame.Response);
                }

                break;
            case Frame.BodyOneofCase.Data:
                if (_processes.TryGetValue(frame.Id, out var process) && !process.OnData(frame.Data))
                {
                    // The guest broke the stream's window: the stream is failed and let go.
                    _processes.TryRemove(frame.Id, out _);
                    _ = DetachQuietlyAsync(frame.Id);
                }

                break;
            case Frame.BodyOneofCase.Credit:
                if (_processes.TryGetValue(frame.Id, out var credited))
                {
                    credited.OnCredit(frame.Credit.Bytes);
                }

                break;
            case Frame.BodyOneofCase.Log:
                if (_logs.TryGetValue(frame.Id, out var log))
                {
                    log.OnBatch(frame.Log);
                    if (frame.Log.End)
                    {
                        _logs.TryRemove(frame.Id, out _);
                    }
                }

                break;
            case Frame.BodyOneofCase.Event when frame.Event.KindCase == Event.KindOneofCase.Exited:
                if (_processes.TryRemove(frame.Id, out var exited))
                {
                    exited.OnExit(frame.Event.Exited);
                }

                break;
        }
    }
}
