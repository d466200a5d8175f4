namespace Spherelet.Domain.Containers;

/// <summary>
/// Where things are inside a pod VM, as CRX sets it up (crx/Spherelet.Crx/Guest): the pod share
/// at /pod (read-only but for the writable volumes; the image layers of the pod's containers at
/// /pod/layers), CRX's own state (bundles, the sandbox's hostname, hosts and resolv.conf) under /run/crx.
/// </summary>
public static class GuestLayout
{
    public const string Share = "/pod";

    public const string Layers = "/pod/layers";

    public const string SandboxFiles = "/run/crx/sandbox";

    public const string Bundles = "/run/crx/bundles";

    /// <summary>The cgroup of the pod's containers, below the VM's cgroup root.</summary>
    public const string CgroupParent = "/spherelet";

    public static string Bundle(string containerId) => $"{Bundles}/{containerId}";

    public static string Rootfs(string containerId) => $"{Bundle(containerId)}/rootfs";

    public static string Cgroup(string containerId) => $"{CgroupParent}/{containerId}";

    /// <summary>A path below the pod share on the host (<paramref name="relative"/>, with '/' separators) as the VM sees it.</summary>
    public static string InShare(string relative) => $"{Share}/{relative.TrimStart('/')}";
}
