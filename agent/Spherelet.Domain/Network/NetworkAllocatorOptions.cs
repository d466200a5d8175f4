namespace Spherelet.Domain.Network;

/// <summary>How segments are carved: the size of each namespace's subnet and the VLAN tags they may use.</summary>
public sealed record NetworkAllocatorOptions
{
    /// <summary>The prefix length of each segment's subnet (within the pod CIDR): /26 gives 61 pods a namespace.</summary>
    public int SegmentPrefixLength { get; init; } = 26;

    public int FirstVlan { get; init; } = 100;

    public int LastVlan { get; init; } = 4094;
}
