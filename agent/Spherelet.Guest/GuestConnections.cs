using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Spherelet.Crx.Protocol;
using Spherelet.Domain.Errors;

namespace Spherelet.Guest;

/// <summary>
/// The agent's connections to its pods' guests, one per pod. A connection is opened on
/// first use (waiting while the VM boots), shared by every caller, watched by keepalive,
/// and opened again after it is lost, so a restarted agent, or one whose channel broke,
/// simply connects anew: the guest's containers and their logs are not disturbed.
/// </summary>
public sealed partial class GuestConnections : IAsyncDisposable
{
    private readonly GuestChannelOptions _options;
    private readonly ILogger<GuestConnections> _logger;
    private readonly ConcurrentDictionary<string, Lazy<Task<GuestConnection>>> _connections = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, bool> _closing = new(StringComparer.Ordinal);
    private readonly IGuestChannelMeter? _meter;

    public GuestConnections(GuestChannelOptions options, ILogger<GuestConnections> logger, IGuestChannelMeter? meter = null)
    {
        _options = options;
        _logger = logger;
        _meter = meter;
    }

    /// <summary>The number of open connections.</summary>
    public int OpenCount => _connections.Values.Count(c => c.IsValueCreated && c.Value.IsCompletedSuccessfully && c.Value.Result.IsOpen);

    /// <summary>
    /// The pod's open connection, or a new one to the CRX channel at <paramref name="socketPath"/>
    /// (the Unix socket QEMU serves the virtio-serial port on). Concurrent callers share one attempt.
    /// </summary>
    /// <exception cref="GuestUnavailableException">The guest did not answer within the connect timeout.</exception>
    public async Task<GuestConnection> GetAsync(string podId, string socketPath, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(podId);
        ArgumentException.ThrowIfNullOrEmpty(socketPath);
        while (true)
        {
            ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
            var entry = _connections.GetOrAdd(podId, id => new Lazy<Task<GuestConnection>>(() => OpenAsync(id, socketPath)));
            GuestConnection connection;
            try
            {
                connection = await entry.Value.WaitAsync(cancellationToken);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                // A failed attempt is not kept: the next caller tries again.
                _connections.TryRemove(new KeyValuePair<string, Lazy<Task<GuestConnection>>>(podId, entry));
                throw;
            }

            if (connection.IsOpen)
            {
                return connection;
            }

            _connections.TryRemove(new KeyValuePair<string, Lazy<Task<GuestConnection>>>(podId, entry));
        }
    }

    /// <summary>The pod's guest is about to close its channel (it was asked to power off): that is not a loss.</summary>
    public void ExpectClose(string podId) => _closing[podId] = true;

    /// <summary>Closes the pod's connection, if any (its VM is going away). The guest is not told anything.</summary>
    public async Task CloseAsync(string podId)
    {
        _closing.TryRemove(podId, out _);
        if (_connections.TryRemove(podId, out var entry) && entry.IsValueCreated)
        {
            try
            {
                await (await entry.Value).DisposeAsync();
            }
            catch (SphereletException)
            {
                // The attempt had failed: nothing was open.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (var podId in _connections.Keys)
        {
            await CloseAsync(podId);
        }

        _stopping.Dispose();
    }

    private async Task<GuestConnection> OpenAsync(string podId, string socketPath)
    {
        var started = Stopwatch.GetTimestamp();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(_options.ConnectTimeout);
        CrxClient client;
        try
        {
            var stream = await ConnectSocketAsync(socketPath, deadline.Token);
            client = await CrxClient.ConnectAsync(stream, _options.HostVersion, deadline.Token);
        }
        catch (OperationCanceledException e) when (!_stopping.IsCancellationRequested)
        {
            LogConnectTimedOut(podId, socketPath, _options.ConnectTimeout.TotalSeconds);
            throw new GuestUnavailableException(
                $"pod {podId}: the guest did not answer on {socketPath} within {_options.ConnectTimeout.TotalSeconds:0.#} s", e);
        }
        catch (Exception e) when (GuestErrors.Translate(e, podId) is { } translated)
        {
            throw translated;
        }

        client.StartKeepalive(_options.KeepaliveInterval, _options.KeepaliveTimeout, _meter is null ? null : _meter.RoundTrip);
        var connection = new GuestConnection(podId, client, _options.CallTimeout);
        var connectMs = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        LogConnected(podId, client.Peer.CrxVersion, client.Peer.KernelRelease, client.Peer.BootToReadyMs, connectMs);
        _ = connection.Closed.ContinueWith(
            closed => OnClosed(podId, connection, closed.Exception?.GetBaseException().Message ?? "closed"),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return connection;
    }

    private void OnClosed(string podId, GuestConnection connection, string reason)
    {
        if (_connections.TryGetValue(podId, out var entry)
            && entry.IsValueCreated
            && entry.Value.IsCompletedSuccessfully
            && ReferenceEquals(entry.Value.Result, connection))
        {
            _connections.TryRemove(new KeyValuePair<string, Lazy<Task<GuestConnection>>>(podId, entry));
            if (_closing.TryRemove(podId, out _))
            {
                LogClosed(podId);
            }
            else if (!_stopping.IsCancellationRequested)
            {
                LogLost(podId, reason);
            }
        }
    }

    /// <summary>Connects to the channel socket, retrying while it does not exist or refuses (QEMU still starting).</summary>
    private static async Task<Stream> ConnectSocketAsync(string path, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.ConnectionRefused or SocketError.TryAgain)
            {
                socket.Dispose();
                await Task.Delay(TimeSpan.FromMilliseconds(25), cancellationToken);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "guest connected pod={PodId} crx={CrxVersion} kernel={KernelRelease} boot_to_ready_ms={BootToReadyMs} connect_ms={ConnectMs}")]
    private partial void LogConnected(string podId, string crxVersion, string kernelRelease, ulong bootToReadyMs, long connectMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "guest channel closed by a guest powering off pod={PodId}")]
    private partial void LogClosed(string podId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest channel lost pod={PodId} reason={Reason}")]
    private partial void LogLost(string podId, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "guest did not answer pod={PodId} socket={SocketPath} timeout_s={TimeoutSeconds}")]
    private partial void LogConnectTimedOut(string podId, string socketPath, double timeoutSeconds);
}
