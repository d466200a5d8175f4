using Microsoft.Extensions.Logging;

namespace Spherelet.Libvirt.Vmm;

/// <summary>
/// The one place that holds the agent's libvirt connection. It opens the connection on
/// first use and opens a new one when libvirtd went away (a restart of libvirtd), so
/// callers never see a dead connection twice; lifecycle-event subscribers are carried over
/// to every new connection. libvirt calls block, so they run on the thread pool, one at a
/// time over this connection.
/// </summary>
public sealed partial class LibvirtConnector : IDisposable
{
    private readonly string _uri;
    private readonly ILogger<LibvirtConnector> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly List<Action<DomainLifecycleEvent>> _subscribers = [];
    private readonly Lock _subscribersLock = new();
    private LibvirtConnection? _connection;
    private IDisposable? _subscription;
    private volatile bool _closed;
    private bool _disposed;

    /// <param name="uri">The libvirt connection URI (<c>qemu:///system</c>).</param>
    public LibvirtConnector(string uri, ILogger<LibvirtConnector> logger)
    {
        _uri = uri;
        _logger = logger;
    }

    public string Uri => _uri;

    /// <summary>Raised (on the thread pool) after a new connection replaced one libvirtd closed: events may have been missed meanwhile.</summary>
    public event Action? Reconnected;

    /// <summary>Runs <paramref name="call"/> with a live connection.</summary>
    /// <exception cref="LibvirtException">libvirtd cannot be reached, or the call failed.</exception>
    public async Task<T> UseAsync<T>(Func<LibvirtConnection, T> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            return await Task.Run(() => call(Live()), cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Calls <paramref name="handler"/> (on libvirt's event thread) for every domain lifecycle
    /// event, over this connection and every one opened after it.
    /// </summary>
    public IDisposable SubscribeLifecycleEvents(Action<DomainLifecycleEvent> handler)
    {
        lock (_subscribersLock)
        {
            _subscribers.Add(handler);
        }

        return new Spherelet.Domain.Vmm.Unsubscriber(() =>
        {
            lock (_subscribersLock)
            {
                _subscribers.Remove(handler);
            }
        });
    }

    /// <summary>Opens the connection now if it is not open (so events flow before the first call).</summary>
    public Task ConnectAsync(CancellationToken cancellationToken) => UseAsync(_ => 0, cancellationToken);

    public void Dispose()
    {
        _disposed = true;
        _subscription?.Dispose();
        _connection?.Dispose();
        _gate.Dispose();
    }

    private LibvirtConnection Live()
    {
        if (_connection is { } open && (_closed || !open.IsAlive))
        {
            _subscription?.Dispose();
            _subscription = null;
            open.Dispose();
            _connection = null;
        }

        if (_connection is null)
        {
            var connection = LibvirtConnection.Open(_uri);
            _closed = false;
            connection.OnClosed(OnConnectionClosed);
            _subscription = connection.SubscribeLifecycleEvents(Dispatch);
            _connection = connection;
        }

        return _connection;
    }

    /// <summary>libvirtd went away: reconnect in the background so events keep coming.</summary>
    private void OnConnectionClosed(int reason)
    {
        _closed = true;
        LogClosed(_uri, reason);
        _ = Task.Run(async () =>
        {
            for (var attempt = 1; attempt <= 600 && !_disposed; attempt++)
            {
                try
                {
                    await ConnectAsync(CancellationToken.None);
                    LogReconnected(_uri, attempt);
                    Reconnected?.Invoke();
                    return;
                }
                catch (LibvirtException)
                {
                    await Task.Delay(TimeSpan.FromSeconds(1));
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
            }
        });
    }

    private void Dispatch(DomainLifecycleEvent lifecycle)
    {
        Action<DomainLifecycleEvent>[] subscribers;
        lock (_subscribersLock)
        {
            subscribers = [.. _subscribers];
        }

        foreach (var subscriber in subscribers)
        {
            subscriber(lifecycle);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "libvirt connection closed uri={Uri} reason={Reason}; reconnecting")]
    private partial void LogClosed(string uri, int reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "libvirt reconnected uri={Uri} attempts={Attempts}")]
    private partial void LogReconnected(string uri, int attempts);
}
