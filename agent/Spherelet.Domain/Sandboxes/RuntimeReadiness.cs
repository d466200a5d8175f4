using Spherelet.Domain.Errors;

namespace Spherelet.Domain.Sandboxes;

/// <summary>The gate that keeps requests out until recovery at start has finished.</summary>
public sealed class RuntimeReadiness
{
    private readonly TaskCompletionSource _recovered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _ready;

    public bool IsReady => _ready;

    /// <summary>Completes when recovery has finished.</summary>
    public Task Recovered => _recovered.Task;

    public void MarkReady()
    {
        _ready = true;
        _recovered.TrySetResult();
    }

    /// <exception cref="RuntimeNotReadyException">Recovery is still running.</exception>
    public void EnsureReady()
    {
        if (!_ready)
        {
            throw new RuntimeNotReadyException("spherelet is recovering its pods after a start; try again shortly");
        }
    }
}
