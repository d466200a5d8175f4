using System.Globalization;

namespace Spherelet.Domain.Node;

/// <summary>The host's 2 MiB hugepages: whether QEMU can back guest memory with them (hugetlbfs mounted, some reserved) and how many are free.</summary>
public static class HostHugepages
{
    private const string Pool = "/sys/kernel/mm/hugepages/hugepages-2048kB";

    /// <summary>True when a hugetlbfs of 2 MiB pages is mounted (libvirt finds it there) and <c>vm.nr_hugepages</c> reserves some.</summary>
    public static bool Available(string mounts = "/proc/mounts") =>
        Read(Path.Combine(Pool, "nr_hugepages")) > 0 && HugetlbfsMounted(File.Exists(mounts) ? File.ReadAllText(mounts) : string.Empty);

    /// <summary>Free 2 MiB hugepages on the host now.</summary>
    public static long Free() => Read(Path.Combine(Pool, "free_hugepages"));

    /// <summary>A hugetlbfs mount of 2 MiB pages (the default size when the mount names none) in a <c>/proc/mounts</c> text.</summary>
    public static bool HugetlbfsMounted(string mounts)
    {
        ArgumentNullException.ThrowIfNull(mounts);
        return mounts.Split('\n').Select(l => l.Split(' ')).Any(f =>
            f.Length >= 4 && f[2] == "hugetlbfs"
            && (!f[3].Contains("pagesize=", StringComparison.Ordinal) || f[3].Split(',').Contains("pagesize=2M", StringComparer.Ordinal)));
    }

    private static long Read(string file)
    {
        try
        {
            return long.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }
}
