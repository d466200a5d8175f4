using System.Text.Json;
using System.Text.Json.Nodes;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri.Oci;

/// <summary>
/// Seccomp for containers. RuntimeDefault allows every system call except those that reach
/// the kernel's global state (modules, kexec, clocks, accounting, keyrings, BPF, perf,
/// mounts, namespaces, tracing); a capability that grants one of them lets it through, as
/// Docker's default profile does. Unconfined: none. Localhost: the node's profile file.
/// A container that names no profile is unconfined, as CRI says (the kubelet sends RuntimeDefault
/// where the pod or the node asks for it).
/// </summary>
public static class SeccompProfiles
{
    private static readonly (string[] Syscalls, string? Capability)[] Denied =
    [
        (["acct"], "CAP_SYS_PACCT"),
        (["add_key", "keyctl", "request_key"], null),
        (["bpf"], "CAP_BPF"),
        (["clock_adjtime", "clock_settime", "settimeofday", "stime"], "CAP_SYS_TIME"),
        (["create_module", "delete_module", "finit_module", "init_module", "get_kernel_syms", "query_module"], "CAP_SYS_MODULE"),
        (["get_mempolicy", "mbind", "set_mempolicy", "move_pages"], "CAP_SYS_NICE"),
        (["ioperm", "iopl"], "CAP_SYS_RAWIO"),
        (["kcmp", "process_vm_readv", "process_vm_writev", "ptrace"], "CAP_SYS_PTRACE"),
        (["kexec_file_load", "kexec_load", "reboot"], "CAP_SYS_BOOT"),
        (["lookup_dcookie", "mount", "umount", "umount2", "pivot_root", "swapon", "swapoff", "setns", "unshare", "quotactl", "name_to_handle_at", "open_by_handle_at", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree"], "CAP_SYS_ADMIN"),
        (["nfsservctl", "sysfs", "_sysctl", "uselib", "ustat", "vm86", "vm86old", "userfaultfd"], null),
        (["perf_event_open"], "CAP_PERFMON"),
    ];

    /// <summary>
    /// The profile a container asked for: the <c>seccomp</c> field, else the deprecated
    /// <c>seccomp_profile_path</c> (<c>unconfined</c>, <c>runtime/default</c>, <c>docker/default</c>,
    /// <c>localhost/PATH</c>), else none (unconfined).
    /// </summary>
    /// <exception cref="InvalidRequestException">A profile path of another form.</exception>
    public static Runtime.V1.SecurityProfile Effective(Runtime.V1.LinuxContainerSecurityContext? security)
    {
        if (security?.Seccomp is { } profile)
        {
            return profile;
        }

#pragma warning disable CS0612 // Deprecated in CRI, still sent by older kubelets and by critest.
        var path = security?.SeccompProfilePath ?? string.Empty;
#pragma warning restore CS0612
        return path switch
        {
            "" or "unconfined" => new Runtime.V1.SecurityProfile { ProfileType = Runtime.V1.SecurityProfile.Types.ProfileType.Unconfined },
            "runtime/default" or "docker/default" => new Runtime.V1.SecurityProfile { ProfileType = Runtime.V1.SecurityProfile.Types.ProfileType.RuntimeDefault },
            _ when path.StartsWith("localhost/", StringComparison.Ordinal) => new Runtime.V1.SecurityProfile
            {
                ProfileType = Runtime.V1.SecurityProfile.Types.ProfileType.Localhost,
                LocalhostRef = path["localhost/".Length..],
            },
            _ => throw new InvalidRequestException(
                $"seccomp profile path '{path}' is not supported: use unconfined, runtime/default, docker/default or localhost/PATH"),
        };
    }

    /// <summary>The OCI linux.seccomp object, or null for none.</summary>
    /// <exception cref="InvalidRequestException">A Localhost profile that is missing or not JSON.</exception>
    public static JsonObject? For(Runtime.V1.SecurityProfile? profile, bool privileged, IReadOnlyCollection<string> capabilities, string? localhostProfile)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        if (privileged)
        {
            return null;
        }

        switch (profile?.ProfileType ?? Runtime.V1.SecurityProfile.Types.ProfileType.RuntimeDefault)
        {
            case Runtime.V1.SecurityProfile.Types.ProfileType.Unconfined:
                return null;
            case Runtime.V1.SecurityProfile.Types.ProfileType.Localhost:
                if (string.IsNullOrEmpty(localhostProfile))
                {
                    throw new InvalidRequestException($"seccomp profile '{profile!.LocalhostRef}' was not found on the node");
                }

                try
                {
                    return JsonNode.Parse(localhostProfile) as JsonObject
                        ?? throw new InvalidRequestException($"seccomp profile '{profile!.LocalhostRef}' is not a JSON object");
                }
                catch (JsonException e)
                {
                    throw new InvalidRequestException($"seccomp profile '{profile!.LocalhostRef}' is not JSON: {e.Message}");
                }

            default:
                return RuntimeDefault(capabilities);
        }
    }

    public static JsonObject RuntimeDefault(IReadOnlyCollection<string> capabilities)
    {
        ArgumentNullException.ThrowIfNull(capabilities);
        var denied = Denied
            .Where(d => d.Capability is null || !capabilities.Contains(d.Capability))
            .SelectMany(d => d.Syscalls)
            .Order(StringComparer.Ordinal)
            .Select(s => (JsonNode)s!)
            .ToArray();
        return new JsonObject
        {
            ["defaultAction"] = "SCMP_ACT_ALLOW",
            ["architectures"] = new JsonArray("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"),
            ["syscalls"] = new JsonArray(new JsonObject
            {
                ["names"] = new JsonArray(denied),
                ["action"] = "SCMP_ACT_ERRNO",
                ["errnoRet"] = 1,
            }),
        };
    }
}
