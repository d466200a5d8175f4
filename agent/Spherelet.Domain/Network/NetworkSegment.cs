using System.Net;

namespace Spherelet.Domain.Network;

/// <summary>A Kubernetes namespace's segment: its VLAN tag on the integration bridge, its subnet and the gateway address the host holds in it.</summary>
/// <param name="NextHost">Where the next pod address is looked for (an offset in the subnet): addresses are handed out in turn, not the lowest free one first.</param>
public sealed record NetworkSegment(string Namespace, int Vlan, IPNetwork Subnet, IPAddress Gateway, uint NextHost);
