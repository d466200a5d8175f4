using System.Net;

namespace Spherelet.Domain.Network;

/// <summary>A pod sandbox's place on its namespace's segment: its address and its NIC's MAC.</summary>
/// <param name="AddressV6">Its IPv6 address on a dual-stack node (the same host number in the segment's IPv6 subnet); null otherwise.</param>
public sealed record PodLease(string SandboxId, string Namespace, IPAddress Address, string Mac, IPAddress? AddressV6 = null);
