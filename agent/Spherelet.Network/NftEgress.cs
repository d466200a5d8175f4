using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Spherelet.Network;

/// <summary>
/// The pods' egress: traffic from a segment's subnet to anywhere outside the pod CIDR is SNATed,
/// to a given address or, without one, to the address of the host interface it leaves through
/// (masquerade). One rule per segment and IP family in the <c>postrouting</c> chain of
/// <see cref="NftTable"/> (<c>ip spherelet</c>, or <c>ip6 spherelet</c> for a dual-stack
/// segment's IPv6 subnet), commented <c>spherelet:INSTANCE:segment-VLAN</c>.
/// </summary>
public sealed partial class NftEgress
{
    private const string Chain = "postrouting";
    private static readonly string[] Families = ["ip", "ip6"];

    private readonly string _instance;

    /// <param name="instance">The agent instance whose rules these are (hex digits).</param>
    public NftEgress(string instance)
    {
        _instance = instance;
    }

    /// <summary>
    /// Makes the segment's rule for the subnet's IP family say what is asked (left alone when it
    /// does already, replaced when it differs: the SNAT address may have changed in the configuration).
    /// </summary>
    /// <param name="snatAddress">The address to SNAT to; null to masquerade.</param>
    public async Task EnsureSegmentAsync(int vlan, IPNetwork subnet, IPNetwork podCidr, IPAddress? snatAddress, CancellationToken cancellationToken)
    {
        var family = Family(subnet);
        var wanted = snatAddress is null ? "masquerade" : $"snat to {snatAddress}";
        var existing = (await RulesAsync(cancellationToken)).Where(r => r.Vlan == vlan && r.Family == family).ToList();
        if (existing.Count == 1 && existing[0].Action == wanted && existing[0].Subnet == subnet.ToString() && existing[0].PodCidr == podCidr.ToString())
        {
            return;
        }

        await NftTable.EnsureAsync(cancellationToken, family);
        await NftTable.AddRuleAsync(Chain, Rule(vlan, subnet, podCidr, snatAddress), cancellationToken, family);
        foreach (var stale in existing)
        {
            await NftTable.DeleteRuleAsync(Chain, stale.Handle, cancellationToken, family);
        }
    }

    /// <summary>Removes the segment's rules (both families); none is fine.</summary>
    public async Task RemoveSegmentAsync(int vlan, CancellationToken cancellationToken)
    {
        foreach (var rule in (await RulesAsync(cancellationToken)).Where(r => r.Vlan == vlan))
        {
            await NftTable.DeleteRuleAsync(Chain, rule.Handle, cancellationToken, rule.Family);
        }
    }

    /// <summary>The VLANs of this agent's segments that have an egress rule now.</summary>
    public async Task<IReadOnlySet<int>> SegmentsAsync(CancellationToken cancellationToken) =>
        (await RulesAsync(cancellationToken)).Select(r => r.Vlan).ToHashSet();

    /// <summary>The egress rules of this agent's segments now: each segment's VLAN with the families (<c>ip</c>, <c>ip6</c>) it has a rule in.</summary>
    public async Task<IReadOnlyDictionary<int, IReadOnlySet<string>>> FamiliesAsync(CancellationToken cancellationToken) =>
        (await RulesAsync(cancellationToken))
            .GroupBy(r => r.Vlan)
            .ToDictionary(g => g.Key, g => (IReadOnlySet<string>)g.Select(r => r.Family).ToHashSet(StringComparer.Ordinal));

    /// <summary>The rule's words after <c>add rule FAMILY spherelet postrouting</c>.</summary>
    public IReadOnlyList<string> Rule(int vlan, IPNetwork subnet, IPNetwork podCidr, IPAddress? snatAddress)
    {
        var family = Family(subnet);
        List<string> rule = [family, "saddr", subnet.ToString(), family, "daddr", "!=", podCidr.ToString()];
        rule.AddRange(snatAddress is null ? ["masquerade"] : ["snat", "to", snatAddress.ToString()]);
        rule.AddRange(["comment", $"\"spherelet:{_instance}:segment-{vlan.ToString(CultureInfo.InvariantCulture)}\""]);
        return rule;
    }

    private static string Family(IPNetwork subnet) => subnet.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6 ? "ip6" : "ip";

    private async Task<List<(string Family, int Vlan, string Subnet, string PodCidr, string Action, long Handle)>> RulesAsync(CancellationToken cancellationToken)
    {
        var rules = new List<(string, int, string, string, string, long)>();
        foreach (var family in Families)
        {
            foreach (Match match in SegmentRule().Matches(await NftTable.ListChainAsync(Chain, cancellationToken, family)))
            {
                if (match.Groups["instance"].Value == _instance)
                {
                    rules.Add((
                        family,
                        int.Parse(match.Groups["vlan"].Value, CultureInfo.InvariantCulture),
                        match.Groups["subnet"].Value,
                        match.Groups["cidr"].Value,
                        match.Groups["action"].Value.Trim(),
                        long.Parse(match.Groups["handle"].Value, CultureInfo.InvariantCulture)));
                }
            }
        }

        return rules;
    }

    [GeneratedRegex("ip6? saddr (?<subnet>[0-9a-f.:/]+) ip6? daddr != (?<cidr>[0-9a-f.:/]+) (?<action>masquerade|snat to [0-9a-f.:]+) comment \"spherelet:(?<instance>[0-9a-f]+):segment-(?<vlan>[0-9]+)\" # handle (?<handle>[0-9]+)")]
    private static partial Regex SegmentRule();
}
