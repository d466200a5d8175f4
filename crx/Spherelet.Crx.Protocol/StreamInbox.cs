namespace Spherelet.Crx.Protocol;

/// <summary>
/// The receiving side of one direction of a stream: the sender may send the initial window plus
/// whatever this side has credited back, and no more (else it broke the protocol); what was
/// consumed is credited back in batches of a quarter window.
/// </summary>
public sealed class StreamInbox
{
    private readonly Lock _gate = new();
    private long _received;
    private long _credited;
    private long _uncredited;

    /// <summary>Records <paramref name="bytes"/> that arrived; false when they go beyond what the sender may send.</summary>
    public bool Receive(int bytes)
    {
        lock (_gate)
        {
            _received += bytes;
            return _received <= StreamWindow.InitialBytes + _credited;
        }
    }

    /// <summary>Records <paramref name="bytes"/> consumed; returns the credit to send back now (0: later, with more).</summary>
    public long Consume(int bytes)
    {
        lock (_gate)
        {
            _uncredited += bytes;
            if (_uncredited < StreamWindow.InitialBytes / 4)
            {
                return 0;
            }

            var credit = _uncredited;
            _uncredited = 0;
            _credited += credit;
            return credit;
        }
    }
}
