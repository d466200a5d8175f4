namespace Spherelet.Crx.Protocol;

/// <summary>
/// The sending side of one direction of a stream: how many bytes of StreamData may still be sent
/// before the other side credits more back (StreamCredit). Every stream starts with
/// <see cref="InitialBytes"/>; data is sent in chunks of at most <see cref="MaxChunkBytes"/>.
/// </summary>
public sealed class StreamWindow
{
    /// <summary>What each side may send on a stream before it hears back.</summary>
    public const int InitialBytes = 256 * 1024;

    /// <summary>The largest StreamData chunk.</summary>
    public const int MaxChunkBytes = 32 * 1024;

    private readonly Lock _gate = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _available = InitialBytes;
    private bool _closed;

    /// <summary>Waits until <paramref name="bytes"/> may be sent and takes them; false once the stream is closed.</summary>
    public async Task<bool> TakeAsync(int bytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, MaxChunkBytes);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_closed)
                {
                    return false;
                }

                if (_available >= bytes)
                {
                    _available -= bytes;
                    return true;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>The other side has taken <paramref name="bytes"/> more (never more than the initial window is held).</summary>
    public void Give(ulong bytes)
    {
        lock (_gate)
        {
            _available = (long)Math.Min((ulong)InitialBytes, (ulong)Math.Max(0, _available) + Math.Min(bytes, (ulong)InitialBytes));
            Signal();
        }
    }

    /// <summary>The stream is gone: whoever waits stops.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            Signal();
        }
    }

    private void Signal()
    {
        _changed.TrySetResult();
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
