using System.Net;

namespace Spherelet.Domain.Network;

/// <summary>A Kubernetes namespace's segment: its VLAN tag on the integration bridge, its subnet and the gateway address the host holds in it.</summary>
/// <param name="NextHost">Where the next pod address is looked for (an offset in the subnet): addresses are handed out in turn, not the lowest free one first.</param>
/// <param name="SubnetV6">The segment's IPv6 subnet on a dual-stack node (the same place in the IPv6 pod CIDR as the IPv4 subnet has in the IPv4 one); null otherwise.</param>
/// <param name="GatewayV6">The IPv6 subnet's first address, held by the host.</param>
public sealed record NetworkSegment(string Namespace, int Vlan, IPNetwork Subnet, IPAddress Gateway, uint NextHost, IPNetwork? SubnetV6 = null, IPAddress? GatewayV6 = null);
