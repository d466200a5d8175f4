namespace Spherelet.Domain.Node;

/// <summary>
/// The node's settings as the kubelet last gave them. Reads are served from memory;
/// every change is persisted before it is visible. Until the kubelet has sent a pod CIDR, the
/// one from the agent's configuration (if any) is the node's.
/// </summary>
public sealed class NodeConfig : IDisposable
{
    private readonly INodeConfigStore _store;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly NodeNetworkConfig _configured;
    private NodeNetworkConfig? _current;

    /// <param name="configured">The pod CIDRs from configuration, used while none was stored.</param>
    public NodeConfig(INodeConfigStore store, NodeNetworkConfig? configured = null)
    {
        _store = store;
        _configured = configured ?? NodeNetworkConfig.Empty;
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
            return _current ??= await LoadAsync(cancellationToken);
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
            var current = _current ?? await LoadAsync(cancellationToken);
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

    private async Task<NodeNetworkConfig> LoadAsync(CancellationToken cancellationToken)
    {
        var stored = await _store.LoadAsync(cancellationToken);
        return stored.PodCidrs.Count > 0 ? stored : _configured;
    }
}
