using Google.Protobuf;
using Spherelet.Crx.Containers;
using Spherelet.Crx.Guest;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Server;

/// <summary>
/// Serves the host over one channel at a time. Calls run concurrently; each gets exactly
/// one Response with its id. A bad frame gets an error Response with id 0 and the channel
/// goes on; a request without a call gets UNIMPLEMENTED. Containers and their processes do
/// not depend on the channel: when the host goes away and comes back (an agent restart),
/// they have run on and their output waits in their log spools for the host.
/// </summary>
internal sealed class CrxServer : IDisposable
{
    private readonly ContainerManager _containers;
    private readonly PortForwarder _ports;
    private readonly LogFollowers _logs;
    private readonly SandboxConfigurator _sandbox;
    private readonly string _sandboxFiles;
    private readonly TimeSpan _bootToReady;
    private readonly Func<bool, Task> _shutdown;
    private FrameWriter? _writer;

    public CrxServer(Crun crun, string stateDirectory, SandboxConfigurator sandbox, string sandboxFiles, TimeSpan bootToReady, Func<bool, Task> shutdown)
    {
        _containers = new ContainerManager(crun, stateDirectory, SendAsync);
        _ports = new PortForwarder(SendAsync);
        _logs = new LogFollowers(SendAsync);
        _sandbox = sandbox;
        _sandboxFiles = sandboxFiles;
        _bootToReady = bootToReady;
        _shutdown = shutdown;
    }

    public ContainerManager Containers => _containers;

    public void Dispose() => _containers.Dispose();

    /// <summary>
    /// Serves a channel. With <paramref name="waitForHost"/> (a virtio-serial port) the end of
    /// the stream means only that no host is connected right now: reads resume when one
    /// connects again, and the port is never closed, since closing it would drop data in
    /// flight. Without it (a socket), the end of the stream ends the call.
    /// </summary>
    public async Task ServeAsync(Stream input, Stream output, bool waitForHost, CancellationToken cancellationToken)
    {
        using var writer = new FrameWriter(output);
        _writer = writer;
        var reader = new FrameReader(input);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var result = await reader.ReadAsync(cancellationToken);
                if (result.EndOfStream)
                {
                    // Stream ids belong to the host that attached them; the next one starts afresh.
                    _containers.DetachAll();
                    _ports.CloseAll();
                    _logs.StopAll();
                    if (!waitForHost)
                    {
                        return;
                    }

                    // Whatever part of a frame the last host sent is gone with it.
                    reader = new FrameReader(input);
                    await Task.Delay(50, cancellationToken);
                    continue;
                }

                if (result.Frame is not { } frame)
                {
                    CrxLog.Warn($"bad frame: {result.ErrorCode} {result.ErrorMessage}");
                    await SendAsync(new Frame { Id = 0, Response = Failure(result.ErrorCode!, result.ErrorMessage!) });
                    continue;
                }

                switch (frame.BodyCase)
                {
                    case Frame.BodyOneofCase.Request:
                        CrxLog.Verbose($"request id={frame.Id} call={frame.Request.CallCase}");
                        _ = HandleAsync(frame.Id, frame.Request, cancellationToken);
                        break;
                    case Frame.BodyOneofCase.Data:
                        if (!_ports.TryWrite(frame.Id, frame.Data))
                        {
                            _containers.OnStdin(frame.Id, frame.Data);
                        }

                        break;
                    case Frame.BodyOneofCase.Credit:
                        if (!_ports.TryCredit(frame.Id, frame.Credit.Bytes))
                        {
                            _containers.OnCredit(frame.Id, frame.Credit.Bytes);
                        }

                        break;
                    default:
                        await SendAsync(new Frame { Id = frame.Id, Response = Failure(CrxProtocol.Codes.Unimplemented, $"CRX does not take {frame.BodyCase} frames") });
                        break;
                }
            }
        }
        finally
        {
            _writer = null;
            _containers.DetachAll();
            _logs.StopAll();
        }
    }

    private async Task SendAsync(Frame frame)
    {
        if (_writer is not { } writer)
        {
            return; // No host attached: output still goes to the logs.
        }

        try
        {
            await writer.WriteAsync(frame, CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            CrxLog.Verbose("host channel write failed: " + e.Message);
        }
    }

    private async Task HandleAsync(ulong id, Request request, CancellationToken cancellationToken)
    {
        Response response;
        var shutdown = false;
        try
        {
            (response, shutdown) = await DispatchAsync(id, request, cancellationToken);
        }
        catch (CrxRequestException e)
        {
            response = Failure(e.Code, e.Message);
        }
        catch (OperationCanceledException)
        {
            response = Failure(CrxProtocol.Codes.Unavailable, "CRX is stopping");
        }
#pragma warning disable CA1031 // Whatever a request does wrong, CRX answers and keeps serving.
        catch (Exception e)
#pragma warning restore CA1031
        {
            CrxLog.Warn($"request {request.CallCase} failed: {e}");
            response = Failure(CrxProtocol.Codes.Internal, $"{request.CallCase}: {e.Message}");
        }

        await SendAsync(new Frame { Id = id, Response = response });
        if (shutdown)
        {
            await _shutdown(request.Shutdown.Reboot);
        }
    }

    /// <summary>How far the VM's clock may be off the host's before a ping steps it.</summary>
    private static readonly TimeSpan ClockTolerance = TimeSpan.FromMilliseconds(50);

    private async Task<(Response Response, bool Shutdown)> DispatchAsync(ulong id, Request request, CancellationToken cancellationToken)
    {
        var ok = new Response();
        switch (request.CallCase)
        {
            case Request.CallOneofCase.Hello:
                if (request.Hello.ProtocolVersion != CrxProtocol.Version)
                {
                    throw new CrxRequestException(
                        CrxProtocol.Codes.VersionMismatch,
                        $"CRX speaks protocol {CrxProtocol.Version}, the host {request.Hello.ProtocolVersion}");
                }

                if (request.Hello.HostTimeUnixNanos > 0)
                {
                    _sandbox.SetClock(request.Hello.HostTimeUnixNanos, TimeSpan.Zero);
                }

                return (new Response
                {
                    Hello = new HelloReply
                    {
                        ProtocolVersion = CrxProtocol.Version,
                        CrxVersion = typeof(CrxServer).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
                        BootToReadyMs = (ulong)_bootToReady.TotalMilliseconds,
                        KernelRelease = KernelRelease(),
                    },
                }, false);
            case Request.CallOneofCase.Ping:
                if (request.Ping.HostTimeUnixNanos > 0)
                {
                    _sandbox.SetClock(request.Ping.HostTimeUnixNanos, ClockTolerance);
                }

                return (new Response { Ping = new PingReply { Payload = request.Ping.Payload } }, false);
            case Request.CallOneofCase.ConfigureSandbox:
                await _sandbox.ConfigureAsync(request.ConfigureSandbox, _sandboxFiles);
                return (ok, false);
            case Request.CallOneofCase.CreateContainer:
                return (new Response { Started = await _containers.CreateAsync(id, request.CreateContainer) }, false);
            case Request.CallOneofCase.StartContainer:
                await _containers.StartAsync(request.StartContainer);
                return (ok, false);
            case Request.CallOneofCase.Signal:
                _containers.Signal(request.Signal);
                return (ok, false);
            case Request.CallOneofCase.Wait:
                return (new Response { Exit = await _containers.WaitAsync(request.Wait, cancellationToken) }, false);
            case Request.CallOneofCase.Exec:
                return (new Response { Started = await _containers.ExecAsync(id, request.Exec) }, false);
            case Request.CallOneofCase.CloseStdin:
                _containers.CloseStdin(request.CloseStdin);
                return (ok, false);
            case Request.CallOneofCase.Stats:
                return (new Response { Stats = Stats(request.Stats) }, false);
            case Request.CallOneofCase.UpdateResources:
                await _containers.UpdateResourcesAsync(request.UpdateResources);
                return (ok, false);
            case Request.CallOneofCase.FollowLog:
                _logs.Start(id, _containers.SpoolOf(request.FollowLog.ContainerId), request.FollowLog.WindowBytes, cancellationToken);
                return (ok, false);
            case Request.CallOneofCase.AckLog:
                _containers.SpoolOf(request.AckLog.ContainerId).Acknowledge(request.AckLog.Sequence);
                return (ok, false);
            case Request.CallOneofCase.RemoveContainer:
                await _containers.RemoveAsync(request.RemoveContainer);
                return (ok, false);
            case Request.CallOneofCase.Shutdown:
                return (ok, true);
            case Request.CallOneofCase.Resize:
                _containers.Resize(request.Resize);
                return (ok, false);
            case Request.CallOneofCase.Attach:
                return (new Response { Started = _containers.Attach(id, request.Attach) }, false);
            case Request.CallOneofCase.Detach:
                if (!_ports.TryClose(request.Detach.StreamId) && !_logs.TryStop(request.Detach.StreamId))
                {
                    _containers.Detach(request.Detach.StreamId);
                }

                return (ok, false);
            case Request.CallOneofCase.OpenPort:
                return (new Response { Started = await _ports.OpenAsync(id, request.OpenPort) }, false);
            default:
                throw new CrxRequestException(CrxProtocol.Codes.Unimplemented, "the request names no call this CRX knows");
        }
    }

    private StatsReply Stats(GetStats request)
    {
        var wanted = request.ContainerIds.ToHashSet(StringComparer.Ordinal);
        var (vm, total) = CgroupReader.Vm();
        var reply = new StatsReply { Vm = vm, VmMemoryTotalBytes = total };
        reply.Interfaces.Add(CgroupReader.Interfaces());
        foreach (var container in _containers.Containers.Where(c => wanted.Count == 0 || wanted.Contains(c.Id)))
        {
            var (bytes, inodes) = container.Rootfs is { } rootfs ? DiskUsage.Measure(rootfs.UpperDirectory) : (0UL, 0UL);
            reply.Containers.Add(new ContainerStats
            {
                ContainerId = container.Id,
                Stats = CgroupReader.Read(container.CgroupPath),
                WritableBytes = bytes,
                WritableInodes = inodes,
            });
        }

        return reply;
    }

    private static Response Failure(string code, string message) =>
        new() { Error = new Error { Code = code, Message = message } };

    private static string KernelRelease()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}
