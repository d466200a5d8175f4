namespace Spherelet.IntegrationTests.Kubelet;

/// <summary>
/// The pod cgroups a kubelet with the cgroupfs driver makes before RunPodSandbox
/// (<c>/kubepods/burstable/podUID</c> in every mounted hierarchy), and what the test reads of them.
/// </summary>
public static class PodCgroups
{
    /// <summary>The mount points of the cgroup hierarchies (v1 and v2) of this host.</summary>
    public static IReadOnlyList<string> Hierarchies() =>
        File.ReadAllLines("/proc/self/mountinfo")
            .Where(l => l.Contains(" - cgroup ", StringComparison.Ordinal) || l.Contains(" - cgroup2 ", StringComparison.Ordinal))
            .Select(l => l.Split(' ')[4])
            .ToList();

    /// <summary>Makes <paramref name="path"/> (and its parents) in every hierarchy; new v1 cpusets take their parent's CPUs and nodes.</summary>
    public static void Create(string path)
    {
        foreach (var hierarchy in Hierarchies())
        {
            var directory = hierarchy;
            foreach (var part in path.Trim('/').Split('/'))
            {
                var parent = directory;
                directory = Path.Combine(directory, part);
                if (Directory.Exists(directory))
                {
                    continue;
                }

                Directory.CreateDirectory(directory);
                foreach (var file in new[] { "cpuset.cpus", "cpuset.mems" })
                {
                    if (File.Exists(Path.Combine(directory, file)) && File.ReadAllText(Path.Combine(directory, file)).Trim().Length == 0)
                    {
                        File.WriteAllText(Path.Combine(directory, file), File.ReadAllText(Path.Combine(parent, file)).Trim());
                    }
                }
            }
        }
    }

    /// <summary>Removes the cgroups under <c>/kubepods</c> that <paramref name="path"/> made, deepest first (those still in use stay).</summary>
    public static void Remove(string path)
    {
        foreach (var hierarchy in Hierarchies())
        {
            var parts = path.Trim('/').Split('/');
            for (var n = parts.Length; n > 0; n--)
            {
                var directory = Path.Combine(hierarchy, string.Join('/', parts.Take(n)));
                try
                {
                    if (Directory.Exists(directory))
                    {
                        Directory.Delete(directory);
                    }
                }
                catch (IOException)
                {
                    // Busy (another pod's cgroup is under it): left.
                }
            }
        }
    }

    /// <summary>The cgroup of <paramref name="pid"/> in each hierarchy, as <c>/proc/PID/cgroup</c> lists them (controllers → path).</summary>
    public static IReadOnlyDictionary<string, string> Of(int pid) =>
        File.ReadAllLines($"/proc/{pid}/cgroup")
            .Select(l => l.Split(':', 3))
            .Where(p => p.Length == 3)
            .ToDictionary(p => p[1].Length == 0 ? "unified" : p[1], p => p[2]);
}
