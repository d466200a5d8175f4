namespace Spherelet.Domain.Node;

/// <summary>
/// The node's settings as the kubelet last gave them. Reads are served from memory;
/// every change is persisted before it is visible.
/// </summary>
public sealed class NodeConfig : IDisposable
{
    private readonly INodeConfigStore _store;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private NodeNetworkConfig? _current;

    public NodeConfig(INodeConfigStore store)
    {
        _store = store;
    }

    public async Task<NodeNetworkConfig> GetAsync(CancellationToken cancellationToken)
    {
        if (_current is { } current)
        {
            return current;
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            return _current ??= await _store.LoadAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Stores the pod CIDRs from UpdateRuntimeConfig. An empty string leaves the stored
    /// value as it is (the kubelet sends one before the node has a CIDR).
    /// </summary>
    /// <returns>True when the stored value changed.</returns>
    public async Task<bool> UpdatePodCidrAsync(string podCidr, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(podCidr);
        if (podCidr.Trim().Length == 0)
        {
            return false;
        }

        var parsed = NodeNetworkConfig.ParsePodCidrs(podCidr);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var current = _current ?? await _store.LoadAsync(cancellationToken);
            if (current.PodCidrText == parsed.PodCidrText)
            {
                _current = current;
                return false;
            }

            await _store.SaveAsync(parsed, cancellationToken);
            _current = parsed;
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
