namespace Spherelet.Agent.Node;

/// <summary>The on-disk form of the node settings.</summary>
public sealed record NodeCheckpoint(int Version, IReadOnlyList<string> PodCidrs);
