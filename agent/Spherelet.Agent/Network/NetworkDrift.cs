using Spherelet.Domain.Network;
using Spherelet.Network;

namespace Spherelet.Agent.Network;

/// <summary>
/// Compares what the allocations and the configuration say the network is with what the host
/// shows (a pure function, so every case is tested without a switch). What it finds is what an
/// ovs-vswitchd restart (flows gone; on the userspace datapath the gateways' addresses too), a
/// deleted bridge, a firewall reload (nftables flushed) or a hand on the switch leaves behind.
/// </summary>
public static class NetworkDrift
{
    public static IReadOnlyList<DriftFinding> Find(NetworkAllocations allocations, PodNetworkSettings settings, SwitchObservation observed)
    {
        ArgumentNullException.ThrowIfNull(allocations);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(observed);
        var findings = new List<DriftFinding>();
        if (allocations.PodCidr is null || allocations.Segments.Count == 0)
        {
            return findings;
        }

        if (observed.BridgeProblem is { } problem)
        {
            findings.Add(new DriftFinding(null, null, problem));
        }

        if (!observed.Ipv4Forwarding)
        {
            findings.Add(new DriftFinding(null, null, "IPv4 forwarding is off"));
        }

        foreach (var segment in allocations.Segments)
        {
            var dualStack = segment.SubnetV6 is not null && allocations.PodCidrV6 is not null;
            if (dualStack && !observed.Ipv6Forwarding)
            {
                findings.Add(new DriftFinding(segment.Vlan, null, "IPv6 forwarding is off"));
            }

            var gateway = OvsSwitch.GatewayPortName(segment.Vlan);
            if (!observed.BridgePorts.Contains(gateway))
            {
                findings.Add(new DriftFinding(segment.Vlan, null, $"gateway port {gateway} is not on the bridge"));
            }
            else if (!observed.UpInterfaces.Contains(gateway))
            {
                findings.Add(new DriftFinding(segment.Vlan, null, $"gateway {gateway} is down"));
            }

            var addresses = observed.HostAddresses.GetValueOrDefault(gateway);
            if (addresses?.Contains(segment.Gateway) != true)
            {
                findings.Add(new DriftFinding(segment.Vlan, null, $"gateway {gateway} lacks {segment.Gateway}"));
            }

            if (dualStack && segment.GatewayV6 is { } gatewayV6 && addresses?.Contains(gatewayV6) != true)
            {
                findings.Add(new DriftFinding(segment.Vlan, null, $"gateway {gateway} lacks {gatewayV6}"));
            }

            var families = observed.EgressFamilies.GetValueOrDefault(segment.Vlan);
            if (families?.Contains("ip") != true)
            {
                findings.Add(new DriftFinding(segment.Vlan, null, "the IPv4 egress rule is missing"));
            }

            if (dualStack && families?.Contains("ip6") != true)
            {
                findings.Add(new DriftFinding(segment.Vlan, null, "the IPv6 egress rule is missing"));
            }

            var flows = observed.FlowCounts.GetValueOrDefault(segment.Vlan);
            var wanted = WantedFlows(segment, allocations.PodCidrV6, settings);
            if (flows != wanted)
            {
                findings.Add(new DriftFinding(segment.Vlan, null, $"{flows} isolation flows instead of {wanted}"));
            }
        }

        foreach (var lease in allocations.Leases)
        {
            var port = OvsPodNetwork.PortName(lease.SandboxId);
            if (observed.HostInterfaces.Contains(port) && !observed.BridgePorts.Contains(port))
            {
                findings.Add(new DriftFinding(null, lease.SandboxId, $"pod NIC {port} is not on the bridge"));
            }
        }

        return findings;
    }

    /// <summary>How many isolation flows the segment should have: none, or a set per IP family when its namespace is isolated.</summary>
    public static int WantedFlows(NetworkSegment segment, System.Net.IPNetwork? podCidrV6, PodNetworkSettings settings)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentNullException.ThrowIfNull(settings);
        var dualStack = segment.SubnetV6 is not null && podCidrV6 is not null;
        return settings.PolicyOf(segment.Namespace).Isolated ? OvsIsolation.FlowsPerFamily * (dualStack ? 2 : 1) : 0;
    }
}
