using Spherelet.Domain.Errors;

namespace Spherelet.Cri.Oci;

/// <summary>The capability sets of a container process: the runtime default, adds and drops, or all when privileged.</summary>
public static class LinuxCapabilities
{
    /// <summary>What containerd and CRI-O give a container by default.</summary>
    public static readonly IReadOnlyList<string> Default =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ];

    /// <summary>Every capability of the guest kernel (Linux 6.1).</summary>
    public static readonly IReadOnlyList<string> All =
    [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
        "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN",
        "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
    ];

    /// <summary>The default set with <paramref name="add"/> and <paramref name="drop"/> applied (names with or without CAP_, or ALL).</summary>
    /// <exception cref="InvalidRequestException">An unknown capability name.</exception>
    public static IReadOnlyList<string> Compute(bool privileged, IEnumerable<string> add, IEnumerable<string> drop)
    {
        if (privileged)
        {
            return All;
        }

        // As containerd: ALL first (add ALL = every capability, drop ALL = none), then the named adds, then the named drops.
        var adds = add.ToList();
        var drops = drop.ToList();
        var set = drops.Any(IsAll) ? [] : adds.Any(IsAll) ? [.. All] : new List<string>(Default);
        foreach (var cap in adds.Where(a => !IsAll(a)).Select(Normalize))
        {
            if (!set.Contains(cap, StringComparer.Ordinal))
            {
                set.Add(cap);
            }
        }

        foreach (var cap in drops.Where(d => !IsAll(d)).Select(Normalize))
        {
            set.Remove(cap);
        }

        return set;
    }

    /// <summary>Ambient capabilities (CRI <c>add_ambient_capabilities</c>), by their kernel names; each is also given to the process's other sets, where an ambient capability must be.</summary>
    /// <exception cref="InvalidRequestException">An unknown capability name, or ALL.</exception>
    public static IReadOnlyList<string> Ambient(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        return names.Select(n => IsAll(n) ? throw new InvalidRequestException("ALL is not an ambient capability: name each") : Normalize(n)).Distinct(StringComparer.Ordinal).ToList();
    }

    private static bool IsAll(string name) => string.Equals(name, "ALL", StringComparison.OrdinalIgnoreCase);

    private static string Normalize(string name)
    {
        var upper = name.ToUpperInvariant();
        var cap = upper.StartsWith("CAP_", StringComparison.Ordinal) ? upper : "CAP_" + upper;
        return All.Contains(cap, StringComparer.Ordinal) ? cap : throw new InvalidRequestException($"unknown capability '{name}'");
    }
}
