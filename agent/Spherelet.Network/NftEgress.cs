using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Spherelet.Network;

/// <summary>
/// The pods' egress: traffic from a segment's subnet to anywhere outside the pod CIDR is SNATed,
/// to a given address or, without one, to the address of the host interface it leaves through
/// (masquerade). One rule per segment in the <c>postrouting</c> chain of <see cref="NftTable"/>,
/// commented <c>spherelet:INSTANCE:segment-VLAN</c>.
/// </summary>
public sealed partial class NftEgress
{
    private const string Chain = "postrouting";

    private readonly string _instance;

    /// <param name="instance">The agent instance whose rules these are (hex digits).</param>
    public NftEgress(string instance)
    {
        _instance = instance;
    }

    /// <summary>
    /// Makes the segment's rule say what is asked (left alone when it does already, replaced when
    /// it differs: the SNAT address may have changed in the configuration).
    /// </summary>
    /// <param name="snatAddress">The address to SNAT to; null to masquerade.</param>
    public async Task EnsureSegmentAsync(int vlan, IPNetwork subnet, IPNetwork podCidr, IPAddress? snatAddress, CancellationToken cancellationToken)
    {
        var wanted = snatAddress is null ? "masquerade" : $"snat to {snatAddress}";
        var existing = (await RulesAsync(cancellationToken)).Where(r => r.Vlan == vlan).ToList();
        if (existing.Count == 1 && existing[0].Action == wanted && existing[0].Subnet == subnet.ToString() && existing[0].PodCidr == podCidr.ToString())
        {
            return;
        }

        await NftTable.EnsureAsync(cancellationToken);
        await NftTable.AddRuleAsync(Chain, Rule(vlan, subnet, podCidr, snatAddress), cancellationToken);
        foreach (var stale in existing)
        {
            await NftTable.DeleteRuleAsync(Chain, stale.Handle, cancellationToken);
        }
    }

    /// <summary>Removes the segment's rule; none is fine.</summary>
    public async Task RemoveSegmentAsync(int vlan, CancellationToken cancellationToken)
    {
        foreach (var rule in (await RulesAsync(cancellationToken)).Where(r => r.Vlan == vlan))
        {
            await NftTable.DeleteRuleAsync(Chain, rule.Handle, cancellationToken);
        }
    }

    /// <summary>The VLANs of this agent's segments that have an egress rule now.</summary>
    public async Task<IReadOnlySet<int>> SegmentsAsync(CancellationToken cancellationToken) =>
        (await RulesAsync(cancellationToken)).Select(r => r.Vlan).ToHashSet();

    /// <summary>The rule's words after <c>add rule ip spherelet postrouting</c>.</summary>
    public IReadOnlyList<string> Rule(int vlan, IPNetwork subnet, IPNetwork podCidr, IPAddress? snatAddress)
    {
        List<string> rule = ["ip", "saddr", subnet.ToString(), "ip", "daddr", "!=", podCidr.ToString()];
        rule.AddRange(snatAddress is null ? ["masquerade"] : ["snat", "to", snatAddress.ToString()]);
        rule.AddRange(["comment", $"\"spherelet:{_instance}:segment-{vlan.ToString(CultureInfo.InvariantCulture)}\""]);
        return rule;
    }

    private async Task<List<(int Vlan, string Subnet, string PodCidr, string Action, long Handle)>> RulesAsync(CancellationToken cancellationToken)
    {
        var rules = new List<(int, string, string, string, long)>();
        foreach (Match match in SegmentRule().Matches(await NftTable.ListChainAsync(Chain, cancellationToken)))
        {
            if (match.Groups["instance"].Value == _instance)
            {
                rules.Add((
                    int.Parse(match.Groups["vlan"].Value, CultureInfo.InvariantCulture),
                    match.Groups["subnet"].Value,
                    match.Groups["cidr"].Value,
                    match.Groups["action"].Value.Trim(),
                    long.Parse(match.Groups["handle"].Value, CultureInfo.InvariantCulture)));
            }
        }

        return rules;
    }

    [GeneratedRegex("ip saddr (?<subnet>[0-9./]+) ip daddr != (?<cidr>[0-9./]+) (?<action>masquerade|snat to [0-9.]+) comment \"spherelet:(?<instance>[0-9a-f]+):segment-(?<vlan>[0-9]+)\" # handle (?<handle>[0-9]+)")]
    private static partial Regex SegmentRule();
}
