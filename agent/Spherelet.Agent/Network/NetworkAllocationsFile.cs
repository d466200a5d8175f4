namespace Spherelet.Agent.Network;

/// <summary>The file form of the node's network allocations (addresses and networks as text).</summary>
public sealed record NetworkAllocationsFile(
    int Version,
    string? PodCidr,
    int SegmentPrefixLength,
    IReadOnlyList<NetworkSegmentFile> Segments,
    IReadOnlyList<PodLeaseFile> Leases,
    uint NextMacSerial,
    string? PodCidrV6 = null);
