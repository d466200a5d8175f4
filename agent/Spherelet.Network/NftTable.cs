using System.Globalization;
using Spherelet.Domain.Errors;

namespace Spherelet.Network;

/// <summary>
/// Spherelet's nftables table, <c>ip spherelet</c> (and <c>ip6 spherelet</c> for IPv6 egress on dual-stack nodes): DNAT chains for host ports (prerouting for
/// traffic arriving at the host, output for the host's own) and a SNAT chain for the pods'
/// egress (postrouting). Rules carry comments naming their owner, so each part finds its own.
/// </summary>
public static class NftTable
{
    public const string Name = "spherelet";

    /// <summary>The chain that guards the gateways' loopback routing (<see cref="EnsureLocalnetGuardAsync"/>).</summary>
    public const string GuardChain = "guard";

    private const string GuardComment = "spherelet:localnet-guard";

    /// <summary>Makes the table (of family <c>ip</c>, or <c>ip6</c> for IPv6 egress) and its chains when they are missing.</summary>
    public static async Task EnsureAsync(CancellationToken cancellationToken, string family = "ip")
    {
        await RunAsync(["add", "table", family, Name], cancellationToken);
        await RunAsync(["add", "chain", family, Name, "prerouting", "{ type nat hook prerouting priority dstnat; policy accept; }"], cancellationToken);
        await RunAsync(["add", "chain", family, Name, "output", "{ type nat hook output priority -100; policy accept; }"], cancellationToken);
        await RunAsync(["add", "chain", family, Name, "postrouting", "{ type nat hook postrouting priority srcnat; policy accept; }"], cancellationToken);
    }

    /// <summary>
    /// The guard that lets segment gateways carry <c>route_localnet</c> (which host ports on
    /// 127.0.0.1 need): whatever arrives on a gateway for 127.0.0.0/8 is dropped before routing, so
    /// a pod cannot reach the host's loopback services through its gateway (CVE-2020-8558's
    /// lesson). One rule for every agent on the host (gateway names are host-wide), made once.
    /// </summary>
    public static async Task EnsureLocalnetGuardAsync(CancellationToken cancellationToken)
    {
        // One listing when the guard is there (every segment made or repaired asks); the table and
        // chain are made only when it is not (the listing is empty while they are missing).
        if (!(await ListChainAsync(GuardChain, cancellationToken)).Contains(GuardComment, StringComparison.Ordinal))
        {
            await EnsureAsync(cancellationToken);
            await RunAsync(["add", "chain", "ip", Name, GuardChain, "{ type filter hook prerouting priority raw; policy accept; }"], cancellationToken);
            await AddRuleAsync(GuardChain, ["iifname", "\"sph-gw*\"", "ip", "daddr", "127.0.0.0/8", "drop", "comment", $"\"{GuardComment}\""], cancellationToken);
        }
    }

    /// <summary>The chain's rules with their handles (<c>nft -a</c>); empty when the table or chain does not exist.</summary>
    public static async Task<string> ListChainAsync(string chain, CancellationToken cancellationToken, string family = "ip")
    {
        try
        {
            return await HostCommand.RunAsync("nft", ["-a", "list", "chain", family, Name, chain], cancellationToken);
        }
        catch (NetworkOperationFailedException e) when (e.Message.Contains("No such file or directory", StringComparison.Ordinal))
        {
            return string.Empty;
        }
    }

    /// <summary>Adds a rule to a chain of the table.</summary>
    public static Task AddRuleAsync(string chain, IReadOnlyList<string> rule, CancellationToken cancellationToken, string family = "ip") =>
        RunAsync(["add", "rule", family, Name, chain, .. rule], cancellationToken);

    /// <summary>Deletes a rule by its handle.</summary>
    public static Task DeleteRuleAsync(string chain, long handle, CancellationToken cancellationToken, string family = "ip") =>
        RunAsync(["delete", "rule", family, Name, chain, "handle", handle.ToString(CultureInfo.InvariantCulture)], cancellationToken);

    private static Task<string> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        HostCommand.RunAsync("nft", arguments, cancellationToken);
}
