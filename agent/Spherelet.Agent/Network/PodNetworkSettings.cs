using System.Net;

namespace Spherelet.Agent.Network;

/// <summary>What <see cref="OvsPodNetwork"/> is configured with (from <c>Ovs</c> and <c>Network</c> options, validated at start).</summary>
/// <param name="Bridge">The integration bridge.</param>
/// <param name="Datapath">The bridge's datapath type (<c>system</c> or <c>netdev</c>).</param>
/// <param name="Mtu">The MTU of pod NICs and segment gateways.</param>
/// <param name="KeepSegments">Keep a namespace's segment when its last pod goes.</param>
/// <param name="SnatAddress">The address egress is SNATed to; null: masquerade to the node's address.</param>
/// <param name="Namespaces">Per-namespace policy.</param>
public sealed record PodNetworkSettings(
    string Bridge,
    string Datapath,
    int Mtu,
    bool KeepSegments,
    IPAddress? SnatAddress,
    IReadOnlyDictionary<string, NamespacePolicy> Namespaces)
{
    /// <summary>The namespace's policy: its own when configured, else not isolated with the node's SNAT address.</summary>
    public NamespacePolicy PolicyOf(string @namespace) =>
        Namespaces.TryGetValue(@namespace, out var policy) ? policy : new NamespacePolicy(false, null);

    /// <summary>The address the namespace's egress is SNATed to (null: masquerade).</summary>
    public IPAddress? SnatAddressOf(string @namespace) => PolicyOf(@namespace).SnatAddress ?? SnatAddress;
}
