using System.Text.Json.Nodes;
using Runtime.V1;
using Spherelet.Crx.Protocol;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri.Oci;

/// <summary>
/// The OCI runtime spec of a container in a pod VM: a pure function of the CRI container and
/// sandbox configs, the image config, the image's user database and the resolved mounts.
/// The VM is the pod: containers share its network, hostname and (when the pod asks for it)
/// PID and IPC namespaces, so those namespaces are simply not created; the host's namespaces
/// (NODE) are out of reach and refused. Pod sysctls are applied to the VM by CRX, not here.
/// </summary>
public static class OciSpecBuilder
{
    public const string OciVersion = "1.0.2";


    /// <exception cref="InvalidRequestException">The request cannot be honoured (no command, unknown user, host namespaces, ...).</exception>
    public static JsonObject Build(OciSpecInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var container = input.Container;
        var security = container.Linux?.SecurityContext ?? new LinuxContainerSecurityContext();
        SecurityModules.Check(security);
        var privileged = security.Privileged;
        var (deviceNodes, deviceRules, deviceAnnotations) = GuestDevices.Build(container.Devices, container.CDIDevices, input.BlockDeviceSerials);
        var ambient = LinuxCapabilities.Ambient(security.Capabilities?.AddAmbientCapabilities ?? []);
        var capabilities = LinuxCapabilities.Compute(privileged, security.Capabilities?.AddCapabilities ?? [], security.Capabilities?.DropCapabilities ?? [])
            .Concat(ambient).Distinct(StringComparer.Ordinal).ToList();
        var (uid, gid, additionalGids) = ImageUsers.Resolve(
            input.Passwd,
            input.Group,
            security.RunAsUser?.Value,
            security.RunAsUsername,
            security.RunAsGroup?.Value,
            security.SupplementalGroups,
            input.Image.User,
            strict: security.SupplementalGroupsPolicy == SupplementalGroupsPolicy.Strict);

        var process = new JsonObject
        {
            ["terminal"] = container.Tty,
            ["user"] = new JsonObject
            {
                ["uid"] = uid,
                ["gid"] = gid,
                ["additionalGids"] = new JsonArray(additionalGids.Select(g => (JsonNode)g).ToArray()),
            },
            ["args"] = Strings(Arguments(container, input.Image)),
            ["env"] = Strings(Environment(container, input.Image)),
            ["cwd"] = WorkingDirectory(container, input.Image),
            ["capabilities"] = new JsonObject
            {
                ["bounding"] = Strings(capabilities),
                ["effective"] = Strings(capabilities),
                ["permitted"] = Strings(capabilities),
            },
            ["rlimits"] = new JsonArray(new JsonObject { ["type"] = "RLIMIT_NOFILE", ["hard"] = 1048576, ["soft"] = 1048576 }),
            ["noNewPrivileges"] = security.NoNewPrivs,
        };
        if (ambient.Count > 0)
        {
            process["capabilities"]!["inheritable"] = Strings(ambient);
            process["capabilities"]!["ambient"] = Strings(ambient);
        }

        var resources = container.Linux?.Resources;
        if (resources is { OomScoreAdj: not 0 })
        {
            process["oomScoreAdj"] = resources.OomScoreAdj;
        }

        var linux = new JsonObject
        {
            ["namespaces"] = Namespaces(security.NamespaceOptions),
            ["cgroupsPath"] = input.CgroupsPath,
            ["resources"] = Resources(resources, privileged),
        };
        UserNamespaces.Apply(linux, input.Sandbox.Linux?.SecurityContext?.NamespaceOptions?.UsernsOptions, security.NamespaceOptions?.UsernsOptions);
        if (deviceNodes.Count > 0)
        {
            linux["devices"] = deviceNodes;
            var rules = (JsonArray)linux["resources"]!["devices"]!;
            foreach (var rule in deviceRules.ToList())
            {
                deviceRules.Remove(rule);
                rules.Add(rule);
            }
        }

        if (!privileged)
        {
            // Exactly what the client sends: the kubelet sends the default lists for procMount
            // Default and empty ones for Unmasked (CRI cannot tell an empty list from none).
            linux["maskedPaths"] = Strings(security.MaskedPaths);
            linux["readonlyPaths"] = Strings(security.ReadonlyPaths);
        }

        if (SeccompProfiles.For(SeccompProfiles.Effective(security), privileged, capabilities, input.LocalhostSeccompProfile) is { } seccomp)
        {
            linux["seccomp"] = seccomp;
        }

        var spec = new JsonObject
        {
            ["ociVersion"] = OciVersion,
            ["process"] = process,
            ["root"] = new JsonObject { ["path"] = input.RootfsPath, ["readonly"] = security.ReadonlyRootfs },
            ["mounts"] = UserNamespaces.AdaptMounts(Mounts(input, privileged), linux),
            ["linux"] = linux,
        };
        if (container.Annotations.Keys.FirstOrDefault(k => k.StartsWith(SpecAnnotations.Prefix, StringComparison.Ordinal)) is { } reserved)
        {
            throw new InvalidRequestException($"annotation '{reserved}': the prefix {SpecAnnotations.Prefix} is reserved for Spherelet");
        }

        var annotations = container.Annotations.Concat(deviceAnnotations).ToList();
        if (input.PodHugepages2MB > 0)
        {
            annotations.Add(KeyValuePair.Create(SpecAnnotations.Hugepages2MB, input.PodHugepages2MB.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        if (annotations.Count > 0)
        {
            spec["annotations"] = new JsonObject(annotations.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value)));
        }

        return spec;
    }

    /// <summary>The kubelet's rule: the container's command replaces the entrypoint and then drops the image's cmd; its args replace the cmd.</summary>
    public static IReadOnlyList<string> Arguments(ContainerConfig container, Images.Store.ImageConfigInfo image)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(image);
        IEnumerable<string> command = container.Command;
        IEnumerable<string> args = container.Args;
        if (container.Command.Count == 0)
        {
            command = image.Entrypoint;
            if (container.Args.Count == 0)
            {
                args = image.Cmd;
            }
        }

        var all = command.Concat(args).ToList();
        return all.Count > 0
            ? all
            : throw new InvalidRequestException("no command: neither the container config nor the image gives one");
    }

    /// <summary>The image's environment, then the container's, a later value replacing an earlier one of the same name.</summary>
    public static IReadOnlyList<string> Environment(ContainerConfig container, Images.Store.ImageConfigInfo image)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(image);
        var order = new List<string>();
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        void Set(string name, string entry)
        {
            if (!values.ContainsKey(name))
            {
                order.Add(name);
            }

            values[name] = entry;
        }

        foreach (var entry in image.Env)
        {
            Set(entry.Split('=', 2)[0], entry);
        }

        foreach (var kv in container.Envs)
        {
            if (string.IsNullOrEmpty(kv.Key))
            {
                throw new InvalidRequestException("an environment variable has an empty name");
            }

            Set(kv.Key, $"{kv.Key}={kv.Value.ToStringUtf8()}");
        }

        if (!values.ContainsKey("PATH"))
        {
            Set("PATH", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        }

        return order.Select(n => values[n]).ToList();
    }

    private static string WorkingDirectory(ContainerConfig container, Images.Store.ImageConfigInfo image)
    {
        var cwd = container.WorkingDir.Length > 0 ? container.WorkingDir : image.WorkingDir.Length > 0 ? image.WorkingDir : "/";
        return cwd.StartsWith('/') ? cwd : throw new InvalidRequestException($"working_dir '{cwd}' must be an absolute path");
    }

    private static JsonArray Namespaces(NamespaceOption? options)
    {
        var namespaces = new JsonArray(Namespace("mount"), Namespace("cgroup"));
        switch (options?.Pid ?? NamespaceMode.Container)
        {
            case NamespaceMode.Container:
                namespaces.Add(Namespace("pid"));
                break;
            case NamespaceMode.Pod:
                break; // the VM's PID namespace is the pod's
            default:
                throw new InvalidRequestException($"PID namespace mode {options!.Pid} is not available: each pod runs in its own VM");
        }

        switch (options?.Ipc ?? NamespaceMode.Pod)
        {
            case NamespaceMode.Container:
                namespaces.Add(Namespace("ipc"));
                break;
            case NamespaceMode.Pod:
                break;
            default:
                throw new InvalidRequestException($"IPC namespace mode {options!.Ipc} is not available: each pod runs in its own VM");
        }

        if (options is { Network: NamespaceMode.Node })
        {
            throw new InvalidRequestException("the host network is not available: each pod runs in its own VM with its own network");
        }

        return namespaces;
    }

    /// <summary>The OCI <c>linux.resources</c> for CRI resources (also what UpdateContainerResources applies).</summary>
    public static JsonObject Resources(LinuxContainerResources? resources, bool privileged)
    {
        var result = new JsonObject
        {
            ["devices"] = new JsonArray(new JsonObject { ["allow"] = privileged, ["access"] = "rwm" }),
        };
        if (resources is null)
        {
            return result;
        }

        var cpu = new JsonObject();
        if (resources.CpuShares > 0)
        {
            cpu["shares"] = resources.CpuShares;
        }

        if (resources.CpuQuota > 0)
        {
            cpu["quota"] = resources.CpuQuota;
        }

        if (resources.CpuPeriod > 0)
        {
            cpu["period"] = resources.CpuPeriod;
        }

        // cpuset_cpus and cpuset_mems are host CPU and node numbers: they bind the pod's VM on the host
        // (HostCpuset), not the container inside it, where those numbers mean nothing.
        if (cpu.Count > 0)
        {
            result["cpu"] = cpu;
        }

        var memory = new JsonObject();
        if (resources.MemoryLimitInBytes > 0)
        {
            memory["limit"] = resources.MemoryLimitInBytes;
        }

        if (resources.MemorySwapLimitInBytes > 0)
        {
            memory["swap"] = resources.MemorySwapLimitInBytes;
        }

        if (memory.Count > 0)
        {
            result["memory"] = memory;
        }

        if (Hugepages.GuestLimits(resources.HugepageLimits) is { Count: > 0 } hugepages)
        {
            result["hugepageLimits"] = new JsonArray(hugepages.Select(h => (JsonNode)new JsonObject { ["pageSize"] = h.PageSize, ["limit"] = h.Limit }).ToArray());
        }

        if (resources.Unified.Count > 0)
        {
            result["unified"] = new JsonObject(resources.Unified.OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => KeyValuePair.Create(u.Key, (JsonNode?)u.Value)));
        }

        return result;
    }

    private static JsonArray Mounts(OciSpecInput input, bool privileged)
    {
        var mounts = new JsonArray(
            Mount("/proc", "proc", "proc", "nosuid", "noexec", "nodev"),
            Mount("/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k"),
            Mount("/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"),
            Mount("/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev"),
            // The VM's /dev/shm is the pod's: containers that share IPC share it.
            Mount("/dev/shm", "bind", "/dev/shm", "rbind", "nosuid", "nodev", "noexec"),
            Mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", privileged ? "rw" : "ro"),
            Mount("/sys/fs/cgroup", "cgroup2", "cgroup", "nosuid", "noexec", "nodev", "relatime", privileged ? "rw" : "ro"));
        var explicitTargets = input.Mounts.Select(m => m.Destination).ToHashSet(StringComparer.Ordinal);
        foreach (var file in new[] { "hosts", "hostname", "resolv.conf" })
        {
            var destination = "/etc/" + file;
            if (!explicitTargets.Contains(destination))
            {
                mounts.Add(Mount(destination, "bind", $"{input.SandboxFilesDirectory.TrimEnd('/')}/{file}", "rbind", "rprivate", input.Container.Linux?.SecurityContext?.ReadonlyRootfs == true ? "ro" : "rw"));
            }
        }

        foreach (var mount in input.Mounts.OrderBy(m => m.Destination.Count(c => c == '/')).ThenBy(m => m.Destination, StringComparer.Ordinal))
        {
            if (!mount.Destination.StartsWith('/'))
            {
                throw new InvalidRequestException($"mount destination '{mount.Destination}' must be an absolute path");
            }

            mounts.Add(Mount(mount.Destination, "bind", mount.Source, "rbind", mount.Propagation, mount.ReadOnly ? "ro" : "rw"));
        }

        return mounts;
    }

    private static JsonObject Mount(string destination, string type, string source, params string[] options) => new()
    {
        ["destination"] = destination,
        ["type"] = type,
        ["source"] = source,
        ["options"] = Strings(options),
    };

    private static JsonObject Namespace(string type) => new() { ["type"] = type };

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)v).ToArray());
}
