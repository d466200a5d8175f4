namespace Spherelet.Domain.Vmm;

/// <summary>Undoes a subscription once, when disposed.</summary>
public sealed class Unsubscriber(Action undo) : IDisposable
{
    private Action? _undo = undo;

    public void Dispose() => Interlocked.Exchange(ref _undo, null)?.Invoke();
}
