using System.Globalization;
using System.Text.RegularExpressions;

namespace Spherelet.Network;

/// <summary>
/// Host ports forwarded to pods with nftables (<see cref="NftTable"/>): DNAT rules in the chain
/// for traffic arriving at the host (prerouting) and in the one for traffic the host itself sends
/// to its own addresses (output), and for connections to 127.0.0.1 a masquerade (postrouting). Each rule carries the comment <c>spherelet:INSTANCE:SANDBOX</c>, so a pod's
/// rules are found and removed with it, and recovery finds the rules of its own agent (agents with
/// different roots may share the host) that no pod owns.
/// </summary>
public sealed partial class NftHostPorts
{
    private static readonly string[] DnatChains = ["prerouting", "output"];

    private static readonly string[] Chains = [.. DnatChains, "postrouting"];

    private readonly string _instance;

    /// <param name="instance">The agent instance whose rules these are (hex digits).</param>
    public NftHostPorts(string instance)
    {
        _instance = instance;
    }

    /// <summary>Forwards <paramref name="hostPort"/> (on <paramref name="hostIp"/>, or every local address) to the pod.</summary>
    public async Task AddAsync(string sandboxId, string protocol, string hostIp, int hostPort, string podIp, int containerPort, CancellationToken cancellationToken)
    {
        var port = hostPort.ToString(CultureInfo.InvariantCulture);
        var target = $"{podIp}:{containerPort.ToString(CultureInfo.InvariantCulture)}";
        var comment = $"\"spherelet:{_instance}:{sandboxId}\"";
        foreach (var chain in DnatChains)
        {
            List<string> rule = [];
            if (hostIp.Length > 0)
            {
                rule.AddRange(["ip", "daddr", hostIp]);
            }
            else
            {
                // Every address of the host, none of the pods' own traffic passing through.
                rule.AddRange(["fib", "daddr", "type", "local"]);
            }

            rule.AddRange([protocol, "dport", port, "dnat", "to", target, "comment", comment]);
            await NftTable.AddRuleAsync(chain, rule, cancellationToken);
        }

        if (hostIp.Length == 0 || hostIp.StartsWith("127.", StringComparison.Ordinal))
        {
            // The host's own connection to 127.0.0.1:PORT leaves DNATed to the pod with its loopback
            // source, which the pod could not answer: it leaves from the gateway's address instead
            // (the gateway routes it with route_localnet, see NftTable.EnsureLocalnetGuardAsync).
            await NftTable.AddRuleAsync(
                "postrouting",
                ["ip", "saddr", "127.0.0.0/8", "ip", "daddr", podIp, protocol, "dport", containerPort.ToString(CultureInfo.InvariantCulture), "masquerade", "comment", comment],
                cancellationToken);
        }
    }

    /// <summary>Removes every rule of the sandbox; none is fine (nor a missing table).</summary>
    public async Task RemoveAsync(string sandboxId, CancellationToken cancellationToken)
    {
        foreach (var (chain, handle) in await RulesAsync(owner => owner == sandboxId, cancellationToken))
        {
            await NftTable.DeleteRuleAsync(chain, handle, cancellationToken);
        }
    }

    /// <summary>The sandbox whose rule forwards <paramref name="protocol"/> <paramref name="hostPort"/> on an address that overlaps <paramref name="hostIp"/>, or null.</summary>
    public static async Task<string?> HolderAsync(string protocol, string hostIp, int hostPort, CancellationToken cancellationToken)
    {
        foreach (Match match in PortRule().Matches(await NftTable.ListChainAsync("prerouting", cancellationToken)))
        {
            var ruleIp = match.Groups["ip"].Success ? match.Groups["ip"].Value : string.Empty;
            if (match.Groups["protocol"].Value == protocol
                && int.Parse(match.Groups["port"].Value, CultureInfo.InvariantCulture) == hostPort
                && (ruleIp.Length == 0 || hostIp.Length == 0 || ruleIp == hostIp))
            {
                return match.Groups["owner"].Value;
            }
        }

        return null;
    }

    /// <summary>The sandboxes of this agent that own rules now.</summary>
    public async Task<IReadOnlySet<string>> OwnersAsync(CancellationToken cancellationToken)
    {
        var owners = new HashSet<string>(StringComparer.Ordinal);
        foreach (var chain in Chains)
        {
            foreach (Match match in RuleLine().Matches(await NftTable.ListChainAsync(chain, cancellationToken)))
            {
                if (match.Groups["instance"].Value == _instance)
                {
                    owners.Add(match.Groups["owner"].Value);
                }
            }
        }

        return owners;
    }

    private async Task<List<(string Chain, long Handle)>> RulesAsync(Func<string, bool> owned, CancellationToken cancellationToken)
    {
        var rules = new List<(string, long)>();
        foreach (var chain in Chains)
        {
            foreach (Match match in RuleLine().Matches(await NftTable.ListChainAsync(chain, cancellationToken)))
            {
                if (match.Groups["instance"].Value == _instance && owned(match.Groups["owner"].Value))
                {
                    rules.Add((chain, long.Parse(match.Groups["handle"].Value, CultureInfo.InvariantCulture)));
                }
            }
        }

        return rules;
    }

    [GeneratedRegex("comment \"spherelet:(?<instance>[0-9a-f]+):(?<owner>[0-9a-f]+)\" # handle (?<handle>[0-9]+)")]
    private static partial Regex RuleLine();

    [GeneratedRegex("(ip daddr (?<ip>[0-9.]+) )?(fib daddr type local )?(?<protocol>tcp|udp|sctp) dport (?<port>[0-9]+) dnat to [0-9.:]+ comment \"spherelet:[0-9a-f]+:(?<owner>[0-9a-f]+)\"")]
    private static partial Regex PortRule();
}
