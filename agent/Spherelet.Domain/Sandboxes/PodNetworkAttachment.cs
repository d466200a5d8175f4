namespace Spherelet.Domain.Sandboxes;

/// <summary>A pod VM's place on its namespace's segment: its NIC (an OVS port in the segment's VLAN) and its address.</summary>
/// <param name="PortName">The NIC's name on the host (the OVS port), at most 15 bytes.</param>
/// <param name="Address">The pod's IPv4 address.</param>
/// <param name="Gateway">The segment's gateway, the pod's default route.</param>
/// <param name="Mtu">The NIC's MTU.</param>
/// <param name="AddressV6">The pod's IPv6 address on a dual-stack node, else null.</param>
/// <param name="PrefixLengthV6">The prefix length of the segment's IPv6 subnet.</param>
/// <param name="GatewayV6">The segment's IPv6 gateway, the pod's IPv6 default route.</param>
/// <param name="ChecksumOffload">Whether the NIC may leave checksums to the host (not on a userspace datapath).</param>
public sealed record PodNetworkAttachment(
    string Bridge,
    string PortName,
    string Mac,
    int Vlan,
    string Address,
    int PrefixLength,
    string Gateway,
    Guid InterfaceId,
    int Mtu,
    string? AddressV6 = null,
    int PrefixLengthV6 = 0,
    string? GatewayV6 = null,
    bool ChecksumOffload = true);
