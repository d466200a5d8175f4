using System.Collections.Concurrent;
using Spherelet.Crx.Containers;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Server;

/// <summary>
/// The host's FollowLog streams: each sends a container's spooled log entries as LogBatch frames on
/// its request id, never more than its window of content unacknowledged, and ends with a batch
/// marked end once the output is over and sent. A stream lasts while its host is connected.
/// </summary>
internal sealed class LogFollowers
{
    /// <summary>The window a host may ask for at most: a batch must fit a frame (4 MiB).</summary>
    public const uint MaxWindowBytes = 2 * 1024 * 1024;

    private const uint DefaultWindowBytes = 1024 * 1024;

    private readonly Func<Frame, Task> _send;
    private readonly ConcurrentDictionary<ulong, CancellationTokenSource> _streams = new();

    public LogFollowers(Func<Frame, Task> send)
    {
        _send = send;
    }

    /// <summary>Starts streaming <paramref name="spool"/> on <paramref name="streamId"/>.</summary>
    public void Start(ulong streamId, LogSpool spool, uint windowBytes, CancellationToken connection)
    {
        var window = windowBytes == 0 ? DefaultWindowBytes : Math.Min(windowBytes, MaxWindowBytes);
        var stop = CancellationTokenSource.CreateLinkedTokenSource(connection);
        _streams[streamId] = stop;
        _ = Task.Run(async () =>
        {
            try
            {
                await FollowAsync(streamId, spool, window, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                _streams.TryRemove(streamId, out _);
                stop.Dispose();
            }
        }, CancellationToken.None);
    }

    /// <summary>Ends one stream (DetachStream); false when it is not a log stream.</summary>
    public bool TryStop(ulong streamId)
    {
        if (_streams.TryRemove(streamId, out var stop))
        {
            stop.Cancel();
            return true;
        }

        return false;
    }

    /// <summary>Ends every stream: their host is gone.</summary>
    public void StopAll()
    {
        foreach (var id in _streams.Keys)
        {
            TryStop(id);
        }
    }

    private async Task FollowAsync(ulong streamId, LogSpool spool, long window, CancellationToken cancellationToken)
    {
        ulong sent = 0;
        while (true)
        {
            var inFlight = spool.BytesThrough(sent);
            if (inFlight >= window)
            {
                await spool.ChangedAsync(cancellationToken);
                continue;
            }

            // Batches of a quarter window at most: the host writes one while the next are on their way.
            var (entries, end) = await spool.ReadAsync(sent, Math.Min(window - inFlight, window / 4), cancellationToken);
            var batch = new LogBatch { End = end };
            batch.Entries.Add(entries);
            await _send(new Frame { Id = streamId, Log = batch });
            if (end)
            {
                return;
            }

            sent = entries[^1].Sequence;
        }
    }
}
