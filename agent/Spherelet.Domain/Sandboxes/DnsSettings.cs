namespace Spherelet.Domain.Sandboxes;

/// <summary>The pod's resolv.conf: name servers, search domains, options.</summary>
public sealed record DnsSettings(IReadOnlyList<string> Servers, IReadOnlyList<string> Searches, IReadOnlyList<string> Options)
{
    public static DnsSettings None { get; } = new([], [], []);
}
