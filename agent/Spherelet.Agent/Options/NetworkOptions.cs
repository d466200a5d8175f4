namespace Spherelet.Agent.Options;

/// <summary>The pod network: where pod addresses come from, the pods' MTU, segments' lifetime, egress SNAT and per-namespace policy.</summary>
public sealed class NetworkOptions
{
    /// <summary>
    /// The node's pod CIDR (an IPv4 network, or an IPv4 and an IPv6 network separated by a comma)
    /// until the kubelet sends one with UpdateRuntimeConfig; empty: none, pods get only their
    /// loopback until the kubelet sends one.
    /// </summary>
    public string PodCidr { get; set; } = string.Empty;

    /// <summary>The MTU of every pod NIC and segment gateway.</summary>
    public int Mtu { get; set; } = 1500;

    /// <summary>Keep a namespace's segment (VLAN, subnet, gateway) when its last pod is removed, instead of releasing it.</summary>
    public bool KeepSegments { get; set; }

    /// <summary>
    /// The address traffic leaving the pod CIDR is SNATed to; empty: the address of the host
    /// interface it leaves through (masquerade), which is the node's address.
    /// </summary>
    public string SnatAddress { get; set; } = string.Empty;

    /// <summary>
    /// How often the agent checks the switch and the host's rules against its allocations and puts
    /// back what was lost (flows after an ovs-vswitchd restart, a gateway's address, a flushed
    /// egress rule, a pod's port on a bridge made again); 0: never (only at start and attach).
    /// </summary>
    public int RepairIntervalSeconds { get; set; } = 10;

    /// <summary>Per Kubernetes namespace: isolation from the other segments and its own SNAT address.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2227:Collection properties should be read only", Justification = "bound from configuration")]
    public Dictionary<string, NamespaceNetworkOptions> Namespaces { get; set; } = new(StringComparer.Ordinal);
}
