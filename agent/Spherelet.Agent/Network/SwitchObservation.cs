using System.Net;

namespace Spherelet.Agent.Network;

/// <summary>What the host's switch and rules look like now, read in a few calls, for <see cref="NetworkDrift"/>.</summary>
/// <param name="BridgeProblem">Why the integration bridge is not usable, or null when it is.</param>
/// <param name="BridgePorts">The ports on the bridge (empty when the bridge is gone).</param>
/// <param name="FlowCounts">This agent's isolation flows on the bridge, counted by VLAN.</param>
/// <param name="EgressFamilies">This agent's egress rules: each VLAN with its families (<c>ip</c>, <c>ip6</c>).</param>
/// <param name="HostAddresses">The addresses of the host's interfaces, by name.</param>
/// <param name="UpInterfaces">Which of the interfaces asked about are up.</param>
/// <param name="HostInterfaces">Which of the pod NICs' taps exist on the host.</param>
/// <param name="Ipv4Forwarding">Whether the host forwards IPv4.</param>
/// <param name="Ipv6Forwarding">Whether the host forwards IPv6.</param>
public sealed record SwitchObservation(
    string? BridgeProblem,
    IReadOnlySet<string> BridgePorts,
    IReadOnlyDictionary<int, int> FlowCounts,
    IReadOnlyDictionary<int, IReadOnlySet<string>> EgressFamilies,
    IReadOnlyDictionary<string, IReadOnlySet<IPAddress>> HostAddresses,
    IReadOnlySet<string> UpInterfaces,
    IReadOnlySet<string> HostInterfaces,
    bool Ipv4Forwarding,
    bool Ipv6Forwarding);
