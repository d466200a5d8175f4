namespace Spherelet.Domain.Containers;

/// <summary>
/// Character devices the guest kernel provides itself, by the host path a request names them with:
/// a container asking for one gets the guest's own node (a host character device means nothing in a VM).
/// </summary>
public static class GuestCharDevices
{
    public static readonly IReadOnlyDictionary<string, (long Major, long Minor)> Provided = new Dictionary<string, (long, long)>(StringComparer.Ordinal)
    {
        ["/dev/fuse"] = (10, 229),
        ["/dev/net/tun"] = (10, 200),
    };
}
