using System.Text.Json;
using Spherelet.Agent.Options;
using Spherelet.Agent.Persistence;
using Spherelet.Domain.Node;

namespace Spherelet.Agent.Node;

/// <summary>Keeps the node's settings in <c>&lt;Root&gt;/node.json</c>, a versioned checkpoint.</summary>
public sealed class FileNodeConfigStore : INodeConfigStore
{
    public const int CurrentVersion = 1;

    public FileNodeConfigStore(SphereletOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        FilePath = Path.Combine(options.Root, "node.json");
    }

    public string FilePath { get; }

    public async Task<NodeNetworkConfig> LoadAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(FilePath))
        {
            return NodeNetworkConfig.Empty;
        }

        await using var stream = File.OpenRead(FilePath);
        var checkpoint = await JsonSerializer.DeserializeAsync(stream, NodeCheckpointJson.Default.NodeCheckpoint, cancellationToken)
            ?? throw new InvalidDataException($"{FilePath} is empty");
        if (checkpoint.Version != CurrentVersion)
        {
            throw new InvalidDataException($"{FilePath} has version {checkpoint.Version}; this agent reads version {CurrentVersion}");
        }

        return checkpoint.PodCidrs.Count == 0
            ? NodeNetworkConfig.Empty
            : NodeNetworkConfig.ParsePodCidrs(string.Join(",", checkpoint.PodCidrs));
    }

    public Task SaveAsync(NodeNetworkConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        var checkpoint = new NodeCheckpoint(CurrentVersion, config.PodCidrs.Select(c => c.ToString()).ToList());
        var bytes = JsonSerializer.SerializeToUtf8Bytes(checkpoint, NodeCheckpointJson.Default.NodeCheckpoint);
        return AtomicFile.WriteAsync(FilePath, bytes, cancellationToken);
    }
}
