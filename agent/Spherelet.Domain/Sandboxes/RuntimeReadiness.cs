using Spherelet.Domain.Errors;

namespace Spherelet.Domain.Sandboxes;

/// <summary>The gate that keeps requests out until recovery at start has finished.</summary>
public sealed class RuntimeReadiness
{
    private volatile bool _ready;

    public bool IsReady => _ready;

    public void MarkReady() => _ready = true;

    /// <exception cref="RuntimeNotReadyException">Recovery is still running.</exception>
    public void EnsureReady()
    {
        if (!_ready)
        {
            throw new RuntimeNotReadyException("spherelet is recovering its pods after a start; try again shortly");
        }
    }
}
