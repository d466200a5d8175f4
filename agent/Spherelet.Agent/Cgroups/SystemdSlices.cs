namespace Spherelet.Agent.Cgroups;

/// <summary>How systemd lays out slices as cgroups: <c>a-b-c.slice</c> lives at <c>/a.slice/a-b.slice/a-b-c.slice</c>.</summary>
internal static class SystemdSlices
{
    /// <summary>The cgroup path of a slice unit (what the kubelet's systemd driver sends as cgroup_parent).</summary>
    /// <exception cref="ArgumentException">Not a slice name.</exception>
    public static string CgroupPath(string slice)
    {
        ArgumentNullException.ThrowIfNull(slice);
        if (!slice.EndsWith(".slice", StringComparison.Ordinal) || slice.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{slice}' is not a systemd slice name", nameof(slice));
        }

        var name = slice[..^".slice".Length];
        if (name is "" or "-")
        {
            return "/";
        }

        var parts = name.Split('-');
        if (parts.Any(p => p.Length == 0))
        {
            throw new ArgumentException($"'{slice}' is not a valid slice name (empty part)", nameof(slice));
        }

        var path = string.Empty;
        var prefix = string.Empty;
        foreach (var part in parts)
        {
            prefix = prefix.Length == 0 ? part : prefix + "-" + part;
            path += "/" + prefix + ".slice";
        }

        return path;
    }
}
