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

    /// <summary>The OCI annotation that asks CRX to find a hot-plugged disk by its serial: this prefix, then the container path; the value is <c>SERIAL:PERMISSIONS</c>.</summary>
    public const string BlockDeviceAnnotationPrefix = "io.spherelet.block-device/";
}
