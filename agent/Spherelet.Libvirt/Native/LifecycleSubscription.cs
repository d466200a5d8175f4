namespace Spherelet.Libvirt.Native;

/// <summary>One handler's place in <see cref="LifecycleEvents"/>; disposing it (once) removes the handler.</summary>
internal sealed class LifecycleSubscription : IDisposable
{
    private readonly LifecycleEvents _events;
    private readonly Action<DomainLifecycleEvent> _handler;
    private int _disposed;

    internal LifecycleSubscription(LifecycleEvents events, Action<DomainLifecycleEvent> handler)
    {
        _events = events;
        _handler = handler;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _events.Unsubscribe(_handler);
        }
    }
}
