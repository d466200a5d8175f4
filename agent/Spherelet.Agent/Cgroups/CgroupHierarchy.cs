namespace Spherelet.Agent.Cgroups;

/// <summary>One mounted cgroup hierarchy: the unified (v2) one, or a v1 one with its controllers.</summary>
/// <param name="MountPoint">Where it is mounted (<c>/sys/fs/cgroup</c>, <c>/sys/fs/cgroup/cpu</c>, ...).</param>
/// <param name="Root">The cgroup the mount shows at its top (<c>/</c> unless the mount is of a sub-tree).</param>
/// <param name="Unified">True for cgroup v2.</param>
/// <param name="Controllers">The v1 controllers (<c>cpu</c>, <c>cpuset</c>, <c>name=systemd</c>, ...); empty for v2.</param>
internal sealed record CgroupHierarchy(string MountPoint, string Root, bool Unified, IReadOnlyList<string> Controllers)
{
    public bool Has(string controller) => Controllers.Contains(controller, StringComparer.Ordinal);

    /// <summary>
    /// The cgroup hierarchies in a <c>/proc/self/mountinfo</c> text, each mount point once (the
    /// first mount of a hierarchy wins; sub-tree mounts of one already seen are skipped).
    /// </summary>
    public static IReadOnlyList<CgroupHierarchy> Parse(string mountinfo)
    {
        ArgumentNullException.ThrowIfNull(mountinfo);
        var result = new List<CgroupHierarchy>();
        foreach (var line in mountinfo.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // id parent major:minor root mountpoint options [optional fields] - fstype source superoptions
            var separator = line.IndexOf(" - ", StringComparison.Ordinal);
            if (separator < 0)
            {
                continue;
            }

            var fields = line[..separator].Split(' ');
            var tail = line[(separator + 3)..].Split(' ');
            if (fields.Length < 5 || tail.Length < 3)
            {
                continue;
            }

            var root = Unescape(fields[3]);
            var mountPoint = Unescape(fields[4]);
            var type = tail[0];
            if (type == "cgroup2")
            {
                if (!result.Any(h => h.Unified))
                {
                    result.Add(new CgroupHierarchy(mountPoint, root, true, []));
                }
            }
            else if (type == "cgroup")
            {
                var controllers = tail[2].Split(',')
                    .Where(o => o is "cpu" or "cpuacct" or "cpuset" or "memory" or "devices" or "freezer" or "blkio" or "pids"
                        or "hugetlb" or "net_cls" or "net_prio" or "perf_event" or "rdma" or "misc" || o.StartsWith("name=", StringComparison.Ordinal))
                    .ToList();
                if (controllers.Count > 0 && !result.Any(h => !h.Unified && h.Controllers.SequenceEqual(controllers)))
                {
                    result.Add(new CgroupHierarchy(mountPoint, root, false, controllers));
                }
            }
        }

        return result;
    }

    /// <summary>The directory of cgroup <paramref name="path"/> (absolute, from the hierarchy's root) in this mount; null when the mount does not show it.</summary>
    public string? Directory(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var rootPrefix = Root.TrimEnd('/');
        if (rootPrefix.Length > 0 && !(path == rootPrefix || path.StartsWith(rootPrefix + "/", StringComparison.Ordinal)))
        {
            return null;
        }

        return MountPoint.TrimEnd('/') + path[rootPrefix.Length..];
    }

    /// <summary>mountinfo escapes space, tab, newline and backslash as octal.</summary>
    private static string Unescape(string value) =>
        value.Contains('\\', StringComparison.Ordinal)
            ? value.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
                .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal)
            : value;
}
