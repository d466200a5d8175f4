using System.Text.Json.Nodes;
using Runtime.V1;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri.Oci;

/// <summary>
/// A pod's user namespace (hostUsers: false): CRI's NamespaceMode POD with one uid and one gid
/// mapping, given to each of its containers inside the pod VM (crun makes the namespace). NODE
/// is the VM's own (no user namespace); CONTAINER and TARGET are not modes a pod can ask for.
/// </summary>
public static class UserNamespaces
{
    /// <summary>The largest id a mapping may reach (ids are 32-bit; 2^32-1 is the invalid id).</summary>
    public const long IdLimit = uint.MaxValue;

    private static readonly string[] BindOptions = ["rbind", "rprivate"];

    /// <summary>True when the pod asks for a user namespace of its own (mode POD, valid mappings); false for NODE or none.</summary>
    /// <exception cref="InvalidRequestException">Mode CONTAINER or TARGET, mappings with NODE, or mappings a user namespace cannot have.</exception>
    public static bool Validate(UserNamespace? options)
    {
        switch (options?.Mode ?? NamespaceMode.Node)
        {
            case NamespaceMode.Node:
                if (options is not null && (options.Uids.Count > 0 || options.Gids.Count > 0))
                {
                    throw new InvalidRequestException("userns_options: mode NODE (the VM's own user namespace) takes no uid or gid mappings");
                }

                return false;
            case NamespaceMode.Pod:
                ValidateMappings(options!.Uids, "uids");
                ValidateMappings(options.Gids, "gids");
                return true;
            default:
                throw new InvalidRequestException($"userns_options: mode {options!.Mode} is not available for a pod: NODE or POD (with mappings)");
        }
    }

    /// <summary>
    /// Puts the pod's user namespace into a container's OCI <c>linux</c> section: a user namespace
    /// with the pod's mappings. A container asking for another user namespace than its pod's is refused.
    /// </summary>
    /// <exception cref="InvalidRequestException">The pod's options are invalid, or the container's differ from them.</exception>
    public static void Apply(JsonObject linux, UserNamespace? pod, UserNamespace? container)
    {
        ArgumentNullException.ThrowIfNull(linux);
        var podHasOwn = Validate(pod);
        if (container is not null && !Equals(Normalized(container), Normalized(pod)))
        {
            throw new InvalidRequestException("userns_options of a container must be its pod's: every container of a pod shares the pod's user namespace mappings");
        }

        if (!podHasOwn)
        {
            return;
        }

        ((JsonArray)linux["namespaces"]!).Add(new JsonObject { ["type"] = "user" });
        linux["uidMappings"] = Mappings(pod!.Uids);
        linux["gidMappings"] = Mappings(pod.Gids);
    }

    /// <summary>
    /// In a user namespace a container cannot mount a new proc, mqueue or sysfs for namespaces
    /// the VM's own user namespace owns: the pod's PID namespace (PID mode POD), its IPC namespace
    /// (IPC mode POD) and its network (always the VM's). It gets the VM's own, bound: the same
    /// processes, queues and devices a new mount would show, as the shared namespace means.
    /// Without a user namespace the mounts are left as they are.
    /// </summary>
    public static JsonArray AdaptMounts(JsonArray mounts, JsonObject linux)
    {
        ArgumentNullException.ThrowIfNull(mounts);
        ArgumentNullException.ThrowIfNull(linux);
        var namespaces = ((JsonArray)linux["namespaces"]!).Select(n => (string?)n!["type"]).ToHashSet(StringComparer.Ordinal);
        if (!namespaces.Contains("user"))
        {
            return mounts;
        }

        for (var i = 0; i < mounts.Count; i++)
        {
            var mount = mounts[i]!.AsObject();
            var type = (string?)mount["type"];
            var shared = type switch
            {
                "proc" => !namespaces.Contains("pid"),
                "mqueue" => !namespaces.Contains("ipc"),
                "sysfs" => !namespaces.Contains("network"),
                _ => false,
            };
            if (!shared)
            {
                continue;
            }

            var destination = (string)mount["destination"]!;
            var options = mount["options"]!.AsArray().Select(o => (string)o!).Where(o => o is "nosuid" or "noexec" or "nodev" or "ro");
            mounts[i] = new JsonObject
            {
                ["destination"] = destination,
                ["type"] = "bind",
                ["source"] = destination,
                ["options"] = new JsonArray(BindOptions.Concat(options).Select(o => (JsonNode)o).ToArray()),
            };
        }

        return mounts;
    }

    private static UserNamespace Normalized(UserNamespace? options) => options ?? new UserNamespace { Mode = NamespaceMode.Node };

    private static void ValidateMappings(Google.Protobuf.Collections.RepeatedField<IDMapping> mappings, string what)
    {
        if (mappings.Count != 1)
        {
            throw new InvalidRequestException($"userns_options.{what}: a pod's user namespace takes exactly one mapping, not {mappings.Count}");
        }

        var mapping = mappings[0];
        if (mapping.ContainerId != 0)
        {
            throw new InvalidRequestException($"userns_options.{what}: the mapping must start at container id 0 (root in the pod), not {mapping.ContainerId}");
        }

        if (mapping.Length == 0 || (long)mapping.HostId + mapping.Length > IdLimit)
        {
            throw new InvalidRequestException($"userns_options.{what}: host id {mapping.HostId} with length {mapping.Length} is not a range of valid ids");
        }
    }

    private static JsonArray Mappings(IEnumerable<IDMapping> mappings) =>
        new(mappings.Select(m => (JsonNode)new JsonObject { ["containerID"] = m.ContainerId, ["hostID"] = m.HostId, ["size"] = m.Length }).ToArray());
}
