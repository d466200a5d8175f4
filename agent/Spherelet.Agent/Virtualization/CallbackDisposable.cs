namespace Spherelet.Agent.Virtualization;

/// <summary>Runs an action once, on the first Dispose.</summary>
internal sealed class CallbackDisposable(Action onDispose) : IDisposable
{
    private Action? _onDispose = onDispose;

    public void Dispose() => Interlocked.Exchange(ref _onDispose, null)?.Invoke();
}
