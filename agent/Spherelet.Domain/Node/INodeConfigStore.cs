namespace Spherelet.Domain.Node;

/// <summary>Keeps the node-wide settings across agent restarts.</summary>
public interface INodeConfigStore
{
    /// <summary>The stored settings, or <see cref="NodeNetworkConfig.Empty"/> when none were stored.</summary>
    Task<NodeNetworkConfig> LoadAsync(CancellationToken cancellationToken);

    Task SaveAsync(NodeNetworkConfig config, CancellationToken cancellationToken);
}
