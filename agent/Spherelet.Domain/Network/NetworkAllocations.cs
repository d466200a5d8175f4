using System.Net;

namespace Spherelet.Domain.Network;

/// <summary>
/// Every network allocation of the node, as one value that is persisted whole: the segments
/// (VLAN, subnet, gateway) carved from the pod CIDR, the pods' leases, and the counters that
/// keep addresses and MACs from coming back soon after they were released.
/// </summary>
/// <param name="PodCidr">The network the segments were carved from; null before the first segment.</param>
/// <param name="NextMacSerial">The low 24 bits of the next pod MAC (02:53:50:xx:xx:xx); only ever grows.</param>
/// <param name="PodCidrV6">The IPv6 network the segments' IPv6 subnets were carved from (dual-stack); null without one.</param>
public sealed record NetworkAllocations(
    IPNetwork? PodCidr,
    int SegmentPrefixLength,
    IReadOnlyList<NetworkSegment> Segments,
    IReadOnlyList<PodLease> Leases,
    uint NextMacSerial,
    IPNetwork? PodCidrV6 = null)
{
    public static NetworkAllocations Empty(int segmentPrefixLength) => new(null, segmentPrefixLength, [], [], 1);
}
