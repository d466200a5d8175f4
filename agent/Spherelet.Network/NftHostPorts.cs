using System.Globalization;
using System.Text.RegularExpressions;

namespace Spherelet.Network;

/// <summary>
/// Host ports forwarded to pods with nftables: a table <c>ip spherelet</c> with a DNAT chain for
/// traffic arriving at the host (prerouting) and one for traffic the host itself sends to its own
/// addresses (output). Each rule carries the comment <c>spherelet:INSTANCE:SANDBOX</c>, so a pod's
/// rules are found and removed with it, and recovery finds the rules of its own agent (agents with
/// different roots may share the host) that no pod owns.
/// </summary>
public sealed partial class NftHostPorts
{
    private readonly string _instance;

    /// <param name="instance">The agent instance whose rules these are (hex digits).</param>
    public NftHostPorts(string instance)
    {
        _instance = instance;
    }

    public const string Table = "spherelet";
    private static readonly string[] Chains = ["prerouting", "output"];

    /// <summary>Makes the table and its chains when they are missing.</summary>
    public static async Task EnsureTableAsync(CancellationToken cancellationToken)
    {
        await NftAsync(["add", "table", "ip", Table], cancellationToken);
        await NftAsync(["add", "chain", "ip", Table, "prerouting", "{ type nat hook prerouting priority dstnat; policy accept; }"], cancellationToken);
        await NftAsync(["add", "chain", "ip", Table, "output", "{ type nat hook output priority -100; policy accept; }"], cancellationToken);
    }

    /// <summary>Forwards <paramref name="hostPort"/> (on <paramref name="hostIp"/>, or every local address) to the pod.</summary>
    public async Task AddAsync(string sandboxId, string protocol, string hostIp, int hostPort, string podIp, int containerPort, CancellationToken cancellationToken)
    {
        var port = hostPort.ToString(CultureInfo.InvariantCulture);
        var target = $"{podIp}:{containerPort.ToString(CultureInfo.InvariantCulture)}";
        var comment = $"\"spherelet:{_instance}:{sandboxId}\"";
        foreach (var chain in Chains)
        {
            List<string> rule = ["add", "rule", "ip", Table, chain];
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
            await NftAsync(rule, cancellationToken);
        }
    }

    /// <summary>Removes every rule of the sandbox; none is fine (nor a missing table).</summary>
    public async Task RemoveAsync(string sandboxId, CancellationToken cancellationToken)
    {
        foreach (var (chain, handle) in await RulesAsync(owner => owner == sandboxId, cancellationToken))
        {
            await NftAsync(["delete", "rule", "ip", Table, chain, "handle", handle.ToString(CultureInfo.InvariantCulture)], cancellationToken);
        }
    }

    /// <summary>The sandbox whose rule forwards <paramref name="protocol"/> <paramref name="hostPort"/> on an address that overlaps <paramref name="hostIp"/>, or null.</summary>
    public static async Task<string?> HolderAsync(string protocol, string hostIp, int hostPort, CancellationToken cancellationToken)
    {
        foreach (Match match in PortRule().Matches(await ListAsync("prerouting", cancellationToken)))
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
            foreach (Match match in RuleLine().Matches(await ListAsync(chain, cancellationToken)))
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
            foreach (Match match in RuleLine().Matches(await ListAsync(chain, cancellationToken)))
            {
                if (match.Groups["instance"].Value == _instance && owned(match.Groups["owner"].Value))
                {
                    rules.Add((chain, long.Parse(match.Groups["handle"].Value, CultureInfo.InvariantCulture)));
                }
            }
        }

        return rules;
    }

    private static async Task<string> ListAsync(string chain, CancellationToken cancellationToken)
    {
        try
        {
            return await HostCommand.RunAsync("nft", ["-a", "list", "chain", "ip", Table, chain], cancellationToken);
        }
        catch (Domain.Errors.NetworkOperationFailedException e) when (e.Message.Contains("No such file or directory", StringComparison.Ordinal))
        {
            return string.Empty; // no table or chain yet: no rules
        }
    }

    private static Task<string> NftAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        HostCommand.RunAsync("nft", arguments, cancellationToken);

    [GeneratedRegex("comment \"spherelet:(?<instance>[0-9a-f]+):(?<owner>[0-9a-f]+)\" # handle (?<handle>[0-9]+)")]
    private static partial Regex RuleLine();

    [GeneratedRegex("(ip daddr (?<ip>[0-9.]+) )?(fib daddr type local )?(?<protocol>tcp|udp|sctp) dport (?<port>[0-9]+) dnat to [0-9.:]+ comment \"spherelet:[0-9a-f]+:(?<owner>[0-9a-f]+)\"")]
    private static partial Regex PortRule();
}
