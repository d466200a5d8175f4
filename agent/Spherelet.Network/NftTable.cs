using System.Globalization;
using Spherelet.Domain.Errors;

namespace Spherelet.Network;

/// <summary>
/// Spherelet's nftables table, <c>ip spherelet</c>: DNAT chains for host ports (prerouting for
/// traffic arriving at the host, output for the host's own) and a SNAT chain for the pods'
/// egress (postrouting). Rules carry comments naming their owner, so each part finds its own.
/// </summary>
public static class NftTable
{
    public const string Name = "spherelet";

    /// <summary>Makes the table and its chains when they are missing.</summary>
    public static async Task EnsureAsync(CancellationToken cancellationToken)
    {
        await RunAsync(["add", "table", "ip", Name], cancellationToken);
        await RunAsync(["add", "chain", "ip", Name, "prerouting", "{ type nat hook prerouting priority dstnat; policy accept; }"], cancellationToken);
        await RunAsync(["add", "chain", "ip", Name, "output", "{ type nat hook output priority -100; policy accept; }"], cancellationToken);
        await RunAsync(["add", "chain", "ip", Name, "postrouting", "{ type nat hook postrouting priority srcnat; policy accept; }"], cancellationToken);
    }

    /// <summary>The chain's rules with their handles (<c>nft -a</c>); empty when the table or chain does not exist.</summary>
    public static async Task<string> ListChainAsync(string chain, CancellationToken cancellationToken)
    {
        try
        {
            return await HostCommand.RunAsync("nft", ["-a", "list", "chain", "ip", Name, chain], cancellationToken);
        }
        catch (NetworkOperationFailedException e) when (e.Message.Contains("No such file or directory", StringComparison.Ordinal))
        {
            return string.Empty;
        }
    }

    /// <summary>Adds a rule to a chain of the table.</summary>
    public static Task AddRuleAsync(string chain, IReadOnlyList<string> rule, CancellationToken cancellationToken) =>
        RunAsync(["add", "rule", "ip", Name, chain, .. rule], cancellationToken);

    /// <summary>Deletes a rule by its handle.</summary>
    public static Task DeleteRuleAsync(string chain, long handle, CancellationToken cancellationToken) =>
        RunAsync(["delete", "rule", "ip", Name, chain, "handle", handle.ToString(CultureInfo.InvariantCulture)], cancellationToken);

    private static Task<string> RunAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        HostCommand.RunAsync("nft", arguments, cancellationToken);
}
