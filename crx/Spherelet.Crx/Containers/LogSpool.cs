using Google.Protobuf;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Containers;

/// <summary>
/// A container's CRI log entries kept in the VM until the host has written them: bounded by the
/// bytes of their content. When an entry does not fit, the oldest go, and one entry in their
/// place (their last sequence number and time) says how many bytes were dropped. Sequence numbers
/// increase by one per entry of output; times increase strictly, so the host can tell which
/// entries its log file has already. A follower reads what is not acknowledged yet, oldest first.
/// </summary>
internal sealed class LogSpool
{
    public const long DefaultCapacityBytes = 16L * 1024 * 1024;

    private readonly LinkedList<LogEntry> _entries = new();
    private readonly Func<long> _clock;
    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _bytes;
    private long _droppedBytes;
    private LogEntry? _dropMarker;
    private ulong _sequence;
    private long _lastTime;
    private bool _complete;

    /// <param name="capacityBytes">How many bytes of content the spool holds at most.</param>
    /// <param name="clock">Nanoseconds since the Unix epoch (the VM's real-time clock by default).</param>
    public LogSpool(long capacityBytes, Func<long>? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBytes, 4L * CriLogLines.MaxLineBytes);
        CapacityBytes = capacityBytes;
        _clock = clock ?? (() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100);
    }

    public long CapacityBytes { get; }

    /// <summary>Bytes of content held now.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    /// <summary>Bytes of content of the entries held up to <paramref name="sequence"/> (sent, not acknowledged yet).</summary>
    public long BytesThrough(ulong sequence)
    {
        lock (_gate)
        {
            return _entries.TakeWhile(e => e.Sequence <= sequence).Sum(e => (long)e.Content.Length);
        }
    }

    /// <summary>Adds an entry of <paramref name="stream"/>'s output, dropping the oldest when it does not fit.</summary>
    public void Append(StreamKind stream, bool partial, ReadOnlySpan<byte> content)
    {
        lock (_gate)
        {
            var time = Math.Max(_clock(), _lastTime + 1);
            _lastTime = time;
            var entry = new LogEntry { Sequence = ++_sequence, TimeUnixNanos = time, Stream = stream, Partial = partial, Content = ByteString.CopyFrom(content) };
            while (_bytes + content.Length > CapacityBytes && _entries.Count > 0)
            {
                DropOldest();
            }

            _entries.AddLast(entry);
            _bytes += content.Length;
            Signal();
        }
    }

    /// <summary>The output is over: a follower gets the end once it has read everything.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _complete = true;
            Signal();
        }
    }

    /// <summary>Drops every entry up to <paramref name="sequence"/>: the host has written them.</summary>
    public void Acknowledge(ulong sequence)
    {
        lock (_gate)
        {
            while (_entries.First is { } first && first.Value.Sequence <= sequence)
            {
                Remove(first);
            }

            Signal();
        }
    }

    /// <summary>
    /// The entries after <paramref name="after"/>, up to <paramref name="maxBytes"/> of content (at
    /// least one); waits while there are none and the output is not over. End: the output is over
    /// and nothing after <paramref name="after"/> is left.
    /// </summary>
    public async Task<(IReadOnlyList<LogEntry> Entries, bool End)> ReadAsync(ulong after, long maxBytes, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                var batch = new List<LogEntry>();
                long bytes = 0;
                foreach (var entry in _entries)
                {
                    if (entry.Sequence <= after)
                    {
                        continue;
                    }

                    if (batch.Count > 0 && bytes + entry.Content.Length > maxBytes)
                    {
                        break;
                    }

                    batch.Add(entry);
                    bytes += entry.Content.Length;
                }

                if (batch.Count > 0 || _complete)
                {
                    return (batch, _complete && (batch.Count == 0 || batch[^1] == _entries.Last?.Value));
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Waits until the spool changes (an entry, an acknowledgement, the end).</summary>
    public Task ChangedAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _changed.Task.WaitAsync(cancellationToken);
        }
    }

    private void DropOldest()
    {
        var victim = _entries.First!;
        if (victim.Value == _dropMarker)
        {
            if (victim.Next is null)
            {
                Remove(victim);
                return;
            }

            victim = victim.Next;
        }

        var dropped = victim.Value;
        var droppedBytes = _droppedBytes + dropped.Content.Length;
        Remove(victim);
        // One marker, where the dropped output was: the oldest place in the spool.
        if (_entries.First is { } first && first.Value == _dropMarker)
        {
            Remove(first);
        }

        _droppedBytes = droppedBytes;
        var text = $"[spherelet: {_droppedBytes} bytes of output dropped: the log spool in the pod VM was full while the node agent was away]";
        _dropMarker = new LogEntry { Sequence = dropped.Sequence, TimeUnixNanos = dropped.TimeUnixNanos, Stream = StreamKind.Stderr, Content = ByteString.CopyFromUtf8(text) };
        _entries.AddFirst(_dropMarker);
        _bytes += _dropMarker.Content.Length;
    }

    private void Remove(LinkedListNode<LogEntry> node)
    {
        _bytes -= node.Value.Content.Length;
        _entries.Remove(node);
        if (node.Value == _dropMarker)
        {
            _dropMarker = null;
            _droppedBytes = 0;
        }
    }

    private void Signal()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
