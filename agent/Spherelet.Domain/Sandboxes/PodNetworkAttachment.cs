namespace Spherelet.Domain.Sandboxes;

/// <summary>A pod VM's place on its namespace's segment: its NIC (an OVS port in the segment's VLAN) and its address.</summary>
/// <param name="PortName">The NIC's name on the host (the OVS port), at most 15 bytes.</param>
/// <param name="Address">The pod's IPv4 address.</param>
/// <param name="Gateway">The segment's gateway, the pod's default route.</param>
/// <param name="Mtu">The NIC's MTU.</param>
public sealed record PodNetworkAttachment(
    string Bridge, string PortName, string Mac, int Vlan, string Address, int PrefixLength, string Gateway, Guid InterfaceId, int Mtu);
