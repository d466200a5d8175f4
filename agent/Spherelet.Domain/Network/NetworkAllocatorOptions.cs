namespace Spherelet.Domain.Network;

/// <summary>How segments are carved: the size of each namespace's subnet and the VLAN tags they may use.</summary>
public sealed record NetworkAllocatorOptions
{
    /// <summary>The prefix length of each segment's subnet (within the pod CIDR): /26 gives 61 pods a namespace.</summary>
    public int SegmentPrefixLength { get; init; } = 26;

    /// <summary>The prefix length of each segment's IPv6 subnet (within the IPv6 pod CIDR) on a dual-stack node.</summary>
    public int SegmentPrefixLengthV6 { get; init; } = 112;

    public int FirstVlan { get; init; } = 100;

    public int LastVlan { get; init; } = 4094;
}
