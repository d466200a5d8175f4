namespace Spherelet.Streaming;

/// <summary>Counts the streaming sessions that are open now, and all there were, by kind (exec, attach, portforward).</summary>
public sealed class StreamingSessions
{
    private readonly object _gate = new();
    private readonly Dictionary<string, (int Open, long Total)> _counts = new(StringComparer.Ordinal);

    /// <summary>Open sessions of every kind.</summary>
    public int Open
    {
        get
        {
            lock (_gate)
            {
                return _counts.Values.Sum(c => c.Open);
            }
        }
    }

    /// <summary>Per kind: open now and started since the agent started.</summary>
    public IReadOnlyDictionary<string, (int Open, long Total)> Snapshot()
    {
        lock (_gate)
        {
            return new Dictionary<string, (int, long)>(_counts, StringComparer.Ordinal);
        }
    }

    /// <summary>Counts a session as open until the returned value is disposed.</summary>
    public IDisposable Begin(string kind)
    {
        lock (_gate)
        {
            var (open, total) = _counts.GetValueOrDefault(kind);
            _counts[kind] = (open + 1, total + 1);
        }

        return new SessionLease(() => End(kind));
    }

    private void End(string kind)
    {
        lock (_gate)
        {
            var (open, total) = _counts[kind];
            _counts[kind] = (open - 1, total);
        }
    }
}
