using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Spherelet.Network;

/// <summary>
/// Isolates a segment from the other segments with OpenFlow rules on the bridge (ovs-ofctl), as
/// NSX does for namespaces that must not reach each other: IPv4 (and IPv6 on dual-stack nodes) between the segment's subnet
/// and the rest of the pod CIDR is dropped both ways, in the segment it is switched as usual,
/// and traffic with the host (the segment's gateway) and outside the pod CIDR is untouched.
/// Cross-segment traffic is routed by the host through the gateways, so a packet to an isolated
/// segment is dropped where it enters the bridge from the other segment's pod or leaves the
/// host through the isolated segment's gateway. The rules carry a cookie made of the agent
/// instance and the VLAN, so each segment's rules are replaced and removed together and
/// recovery finds the ones of its own agent. They sit in table 1, after port security
/// (<see cref="OvsPortSecurity"/>) has let a pod's frames on.
/// </summary>
public sealed partial class OvsIsolation
{
    /// <summary>How many flows isolate a segment for one IP family.</summary>
    public const int FlowsPerFamily = 3;

    private const ulong Marker = 0x5350_0000; // "SP"

    private readonly string _runDirectory;
    private readonly ulong _instanceBits;

    /// <param name="runDirectory">Where ovs-vswitchd keeps its bridges' management sockets.</param>
    /// <param name="instance">The agent instance (hex digits; its first eight make the cookie's upper half).</param>
    public OvsIsolation(string runDirectory, string instance)
    {
        _runDirectory = runDirectory;
        _instanceBits = Ofctl.InstanceBits(instance);
    }

    /// <summary>The cookie that marks the segment's rules.</summary>
    public ulong Cookie(int vlan) => _instanceBits | Marker | (uint)vlan;

    /// <summary>The segment's flows for the subnet's IP family (<c>ip</c> or <c>ipv6</c>), in ovs-ofctl's syntax.</summary>
    public IReadOnlyList<string> Flows(int vlan, IPNetwork subnet, IPNetwork podCidr)
    {
        var cookie = "cookie=0x" + Cookie(vlan).ToString("x", CultureInfo.InvariantCulture) + ",table=" + OvsPortSecurity.NextTable.ToString(CultureInfo.InvariantCulture);
        var (protocol, source, destination) = subnet.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? ("ipv6", "ipv6_src", "ipv6_dst")
            : ("ip", "nw_src", "nw_dst");
        return
        [
            $"{cookie},priority=200,{protocol},{source}={subnet},{destination}={subnet},actions=NORMAL",
            $"{cookie},priority=190,{protocol},{source}={subnet},{destination}={podCidr},actions=drop",
            $"{cookie},priority=190,{protocol},{source}={podCidr},{destination}={subnet},actions=drop",
        ];
    }

    /// <summary>Isolates the segment (adding a flow that is there already only refreshes it).</summary>
    public async Task IsolateAsync(string bridge, int vlan, IPNetwork subnet, IPNetwork podCidr, CancellationToken cancellationToken)
    {
        // An agent before port security kept these flows in table 0, where they would pass a pod's frames unchecked.
        await OfctlAsync(["del-flows", Target(bridge), $"table=0,cookie=0x{Cookie(vlan).ToString("x", CultureInfo.InvariantCulture)}/-1"], cancellationToken);
        foreach (var flow in Flows(vlan, subnet, podCidr))
        {
            await OfctlAsync(["add-flow", Target(bridge), flow], cancellationToken);
        }
    }

    /// <summary>Removes the segment's rules (it is then reached like any other); none is fine.</summary>
    public Task OpenAsync(string bridge, int vlan, CancellationToken cancellationToken) =>
        OfctlAsync(["del-flows", Target(bridge), $"cookie=0x{Cookie(vlan).ToString("x", CultureInfo.InvariantCulture)}/-1"], cancellationToken);

    /// <summary>The VLANs of this agent's segments that have isolation rules on the bridge now.</summary>
    public async Task<IReadOnlySet<int>> IsolatedAsync(string bridge, CancellationToken cancellationToken) =>
        (await FlowCountsAsync(bridge, cancellationToken)).Keys.ToHashSet();

    /// <summary>How many isolation rules of this agent each segment (by VLAN) has on the bridge now.</summary>
    public async Task<IReadOnlyDictionary<int, int>> FlowCountsAsync(string bridge, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<int, int>();
        foreach (var cookie in Ofctl.Cookies(await OfctlAsync(["dump-flows", Target(bridge), "table=" + OvsPortSecurity.NextTable.ToString(CultureInfo.InvariantCulture)], cancellationToken)))
        {
            if ((cookie & 0xFFFF_FFFF_FFFF_0000) == (_instanceBits | Marker))
            {
                var vlan = (int)(cookie & 0xFFFF);
                counts[vlan] = counts.GetValueOrDefault(vlan) + 1;
            }
        }

        return counts;
    }

    /// <summary>The bridge's OpenFlow management socket.</summary>
    private string Target(string bridge) => Ofctl.Target(_runDirectory, bridge);

    private static Task<string> OfctlAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        Ofctl.RunAsync(arguments, cancellationToken);
}
