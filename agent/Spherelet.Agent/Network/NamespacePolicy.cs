using System.Net;

namespace Spherelet.Agent.Network;

/// <summary>A namespace's network policy.</summary>
/// <param name="Isolated">Its segment neither reaches nor is reached by other segments.</param>
/// <param name="SnatAddress">Its own egress SNAT address; null: the node's.</param>
public sealed record NamespacePolicy(bool Isolated, IPAddress? SnatAddress);
