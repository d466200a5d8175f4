namespace Spherelet.Streaming;

/// <summary>Runs its action once, on the first dispose.</summary>
internal sealed class SessionLease(Action end) : IDisposable
{
    private int _ended;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            end();
        }
    }
}
