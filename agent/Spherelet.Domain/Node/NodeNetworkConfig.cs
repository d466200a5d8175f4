using System.Net;

namespace Spherelet.Domain.Node;

/// <summary>
/// Node-wide network settings the kubelet hands over through UpdateRuntimeConfig:
/// the node's pod CIDRs, at most one per IP family.
/// </summary>
public sealed record NodeNetworkConfig(IReadOnlyList<IPNetwork> PodCidrs)
{
    public static NodeNetworkConfig Empty { get; } = new(Array.Empty<IPNetwork>());

    /// <summary>The CIDRs in the kubelet's own form: comma-separated.</summary>
    public string PodCidrText => string.Join(",", PodCidrs.Select(c => c.ToString()));

    /// <summary>
    /// Parses the kubelet's pod CIDR string: one CIDR, or an IPv4 and an IPv6 CIDR
    /// separated by a comma for dual-stack nodes.
    /// </summary>
    /// <exception cref="Errors.InvalidRequestException">The text is not such a list.</exception>
    public static NodeNetworkConfig ParsePodCidrs(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length > 2)
        {
            throw new Errors.InvalidRequestException(
                $"pod CIDR '{text}' lists {parts.Length} networks; at most one IPv4 and one IPv6 network are allowed");
        }

        var cidrs = new List<IPNetwork>();
        foreach (var part in parts)
        {
            var slash = part.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0
                || !IPNetwork.TryParse(part, out var network)
                || !IPAddress.TryParse(part[..slash], out var address)
                || !address.Equals(network.BaseAddress))
            {
                throw new Errors.InvalidRequestException(
                    $"pod CIDR '{part}' is not a network in CIDR notation with its host bits zero (for example 10.244.1.0/24)");
            }

            if (cidrs.Any(c => c.BaseAddress.AddressFamily == network.BaseAddress.AddressFamily))
            {
                throw new Errors.InvalidRequestException(
                    $"pod CIDR '{text}' has two networks of the same IP family");
            }

            cidrs.Add(network);
        }

        return new NodeNetworkConfig(cidrs);
    }
}
