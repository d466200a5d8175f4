namespace Spherelet.Streaming;

/// <summary>
/// Ends a streaming session that carried no data either way for the idle timeout (the kubelet's
/// <c>--streaming-connection-idle-timeout</c>, 4 hours by default): a client that vanished
/// without closing its connection would otherwise hold an exec'd process, an attach or a port
/// forward for ever. Transports call <see cref="Touch"/> for every message or data frame (not
/// for keepalive pings, which a live but idle client answers too).
/// </summary>
public sealed class IdleWatch
{
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private long _last;

    /// <param name="timeout">How long a session may stay idle; zero or less: for ever.</param>
    public IdleWatch(TimeSpan timeout, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _timeout = timeout;
        _time = time;
        _last = time.GetTimestamp();
    }

    /// <summary>Whether the session was ended for being idle.</summary>
    public bool Expired { get; private set; }

    /// <summary>Data went one way or the other now.</summary>
    public void Touch() => Volatile.Write(ref _last, _time.GetTimestamp());

    /// <summary>Watches <paramref name="session"/> until the returned handle is disposed (which waits for the watch to end).</summary>
    public IAsyncDisposable Start(CancellationTokenSource session)
    {
        var stop = new CancellationTokenSource();
        return new Watching(WatchAsync(session, stop.Token), stop);
    }

    /// <summary>Cancels <paramref name="session"/> once idle for the timeout; returns when that happened or <paramref name="stop"/> is cancelled.</summary>
    public async Task WatchAsync(CancellationTokenSource session, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (_timeout <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            while (!stop.IsCancellationRequested)
            {
                var idle = _time.GetElapsedTime(Volatile.Read(ref _last));
                if (idle >= _timeout)
                {
                    Expired = true;
                    await session.CancelAsync();
                    return;
                }

                await Task.Delay(_timeout - idle, _time, stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
            // The session ended and let its token source go meanwhile.
        }
    }

    private sealed class Watching(Task watch, CancellationTokenSource stop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await watch;
            stop.Dispose();
        }
    }
}
