namespace Spherelet.IntegrationTests.Guest;

/// <summary>
/// The guest kernel and initramfs the tests boot: SPHERELET_GUEST_KERNEL and
/// SPHERELET_GUEST_INITRAMFS, else the repository's out/guest (scripts/setup builds them).
/// </summary>
public static class GuestArtifacts
{
    public static string Kernel => Find("SPHERELET_GUEST_KERNEL", "vmlinuz");

    /// <summary>The same kernel as a PVH ELF, for microvm pod VMs.</summary>
    public static string PvhKernel => Find("SPHERELET_GUEST_PVH_KERNEL", "vmlinux");

    public static string Initramfs => Find("SPHERELET_GUEST_INITRAMFS", "initramfs.img");

    private static string Find(string variable, string name)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } configured)
        {
            return configured;
        }

        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Spherelet.sln")))
        {
            dir = dir.Parent;
        }

        var path = Path.Combine(dir?.FullName ?? "/", "out", "guest", name);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"no guest {name}: run scripts/setup (or scripts/build-guest-kernel and scripts/build-guest-initramfs)", path);
    }
}
