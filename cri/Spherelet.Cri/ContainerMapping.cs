using System.Text.Json;
using System.Text.Json.Nodes;
using Runtime.V1;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Errors;
using DomainContainer = Spherelet.Domain.Containers.Container;
using DomainContainerFilter = Spherelet.Domain.Containers.ContainerFilter;
using DomainContainerMetadata = Spherelet.Domain.Containers.ContainerMetadata;
using DomainContainerState = Spherelet.Domain.Containers.ContainerState;
using DomainMountPropagation = Spherelet.Domain.Containers.MountPropagation;

namespace Spherelet.Cri;

/// <summary>Pure mappings between CRI's container messages and the domain's containers.</summary>
public static class ContainerMapping
{
    public static DomainContainerMetadata? ToDomain(Runtime.V1.ContainerMetadata? metadata) =>
        metadata is null ? null : new DomainContainerMetadata(metadata.Name, metadata.Attempt);

    public static IReadOnlyList<MountRequest> ToMountRequests(IEnumerable<Mount> mounts)
    {
        ArgumentNullException.ThrowIfNull(mounts);
        return mounts.Select(m =>
        {
            if (m.Image is { Image.Length: > 0 })
            {
                throw new InvalidRequestException($"mount {m.ContainerPath}: image volumes are not supported");
            }

            if (m.UidMappings.Count > 0 || m.GidMappings.Count > 0)
            {
                throw new InvalidRequestException($"mount {m.ContainerPath}: ID-mapped mounts are not supported");
            }

            // As the kubelet asks it only of runtimes that announce the feature (Status), and as
            // containerd checks it: a recursive read-only mount is read-only and private.
            if (m.RecursiveReadOnly && !m.Readonly)
            {
                throw new InvalidRequestException($"mount {m.ContainerPath}: recursive_read_only needs readonly");
            }

            if (m.RecursiveReadOnly && m.Propagation != Runtime.V1.MountPropagation.PropagationPrivate)
            {
                throw new InvalidRequestException($"mount {m.ContainerPath}: recursive_read_only needs private propagation, not {m.Propagation}");
            }

            return new MountRequest(
                m.ContainerPath,
                m.HostPath,
                m.Readonly,
                m.Propagation switch
                {
                    Runtime.V1.MountPropagation.PropagationHostToContainer => DomainMountPropagation.HostToContainer,
                    Runtime.V1.MountPropagation.PropagationBidirectional => DomainMountPropagation.Bidirectional,
                    _ => DomainMountPropagation.Private,
                },
                m.RecursiveReadOnly);
        }).ToList();
    }

    public static DomainContainerFilter ToFilter(Runtime.V1.ContainerFilter? filter) =>
        filter is null
            ? DomainContainerFilter.All
            : new DomainContainerFilter(
                filter.Id.Length > 0 ? filter.Id : null,
                filter.PodSandboxId.Length > 0 ? filter.PodSandboxId : null,
                filter.State is { } state ? ToDomain(state.State) : null,
                filter.LabelSelector.Count > 0 ? new Dictionary<string, string>(filter.LabelSelector, StringComparer.Ordinal) : null);

    public static DomainContainerFilter ToFilter(ContainerStatsFilter? filter) =>
        filter is null
            ? DomainContainerFilter.All
            : new DomainContainerFilter(
                filter.Id.Length > 0 ? filter.Id : null,
                filter.PodSandboxId.Length > 0 ? filter.PodSandboxId : null,
                null,
                filter.LabelSelector.Count > 0 ? new Dictionary<string, string>(filter.LabelSelector, StringComparer.Ordinal) : null);

    public static Runtime.V1.Container ToListItem(DomainContainer container)
    {
        ArgumentNullException.ThrowIfNull(container);
        var item = new Runtime.V1.Container
        {
            Id = container.Id,
            PodSandboxId = container.SandboxId,
            Metadata = ToCri(container.Metadata),
            Image = ImageSpec(container),
            ImageRef = container.Image.Ref,
            ImageId = container.Image.Id,
            State = ToCri(container.State),
            CreatedAt = container.CreatedAt,
        };
        item.Labels.Add(container.Labels.ToDictionary());
        item.Annotations.Add(container.Annotations.ToDictionary());
        return item;
    }

    public static ContainerStatus ToStatus(DomainContainer container)
    {
        ArgumentNullException.ThrowIfNull(container);
        var status = new ContainerStatus
        {
            Id = container.Id,
            Metadata = ToCri(container.Metadata),
            State = ToCri(container.State),
            CreatedAt = container.CreatedAt,
            StartedAt = container.StartedAt,
            FinishedAt = container.FinishedAt,
            ExitCode = container.ExitCode,
            Image = ImageSpec(container),
            ImageRef = container.Image.Ref,
            ImageId = container.Image.Id,
            Reason = container.Reason,
            Message = container.Message,
            LogPath = container.HostLogPath,
            Resources = new ContainerResources { Linux = WithHostCpuset(ResourcesFromOci(container.ResourcesJson), container.HostCpuset) },
            User = UserFromProcess(container.ProcessJson),
            StopSignal = Signals.ToCri(container.StopSignal),
        };
        status.Labels.Add(container.Labels.ToDictionary());
        status.Annotations.Add(container.Annotations.ToDictionary());
        status.Mounts.Add(container.Mounts.Select(m => new Mount
        {
            ContainerPath = m.ContainerPath,
            HostPath = m.HostPath,
            Readonly = m.ReadOnly,
            RecursiveReadOnly = m.RecursiveReadOnly,
            Propagation = m.Propagation == DomainMountPropagation.HostToContainer
                ? Runtime.V1.MountPropagation.PropagationHostToContainer
                : Runtime.V1.MountPropagation.PropagationPrivate,
        }));
        return status;
    }

    /// <summary>The verbose info of ContainerStatus: what the agent knows beyond CRI's fields, as JSON.</summary>
    public static string VerboseInfo(DomainContainer container, string vmName)
    {
        ArgumentNullException.ThrowIfNull(container);
        var info = new JsonObject
        {
            ["sandboxId"] = container.SandboxId,
            ["vmName"] = vmName,
            ["pid"] = container.Pid,
            ["imageLayers"] = new JsonArray(container.Image.LayerDirectories.Select(l => (JsonNode?)l).ToArray()),
            ["stopSignal"] = container.StopSignal,
            ["process"] = JsonNode.Parse(container.ProcessJson),
            ["resources"] = JsonNode.Parse(container.ResourcesJson),
            ["mounts"] = new JsonArray(container.Mounts.Select(m => (JsonNode?)new JsonObject
            {
                ["containerPath"] = m.ContainerPath,
                ["hostPath"] = m.HostPath,
                ["guestPath"] = m.GuestPath,
                ["readonly"] = m.ReadOnly,
            }).ToArray()),
        };
        return info.ToJsonString();
    }

    /// <param name="rates">Turns cumulative CPU time into <c>usage_nano_cores</c> (kept across calls); null for none.</param>
    public static Runtime.V1.ContainerStats ToStats(DomainContainer container, ResourceUsage usage, CpuRates? rates = null)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(usage);
        var stats = new Runtime.V1.ContainerStats
        {
            Attributes = new ContainerAttributes { Id = container.Id, Metadata = ToCri(container.Metadata) },
            Cpu = Cpu(usage, rates?.Sample(container.Id, usage.CpuNanoseconds, usage.Timestamp)),
            Memory = Memory(usage),
            WritableLayer = new FilesystemUsage
            {
                Timestamp = usage.Timestamp,
                FsId = new FilesystemIdentifier { Mountpoint = GuestLayout.Rootfs(container.Id) },
                UsedBytes = new UInt64Value { Value = usage.WritableBytes },
                InodesUsed = new UInt64Value { Value = usage.WritableInodes },
            },
        };
        stats.Attributes.Labels.Add(container.Labels.ToDictionary());
        stats.Attributes.Annotations.Add(container.Annotations.ToDictionary());
        return stats;
    }

    public static Runtime.V1.PodSandboxStats ToPodStats(Domain.Sandboxes.PodSandbox sandbox, PodUsage usage, IEnumerable<DomainContainer> containers, CpuRates? rates = null)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        ArgumentNullException.ThrowIfNull(usage);
        var stats = new Runtime.V1.PodSandboxStats
        {
            Attributes = new PodSandboxAttributes { Id = sandbox.Id, Metadata = SandboxMapping.ToCri(sandbox.Metadata) },
            Linux = new LinuxPodSandboxStats
            {
                Cpu = Cpu(usage.Vm, rates?.Sample(sandbox.Id, usage.Vm.CpuNanoseconds, usage.Vm.Timestamp)),
                Memory = Memory(usage.Vm, usage.VmMemoryTotalBytes),
                Process = new ProcessUsage { Timestamp = usage.Vm.Timestamp, ProcessCount = new UInt64Value { Value = usage.Vm.Processes } },
                Network = Network(usage),
            },
        };
        stats.Attributes.Labels.Add(sandbox.Labels.ToDictionary());
        stats.Attributes.Annotations.Add(sandbox.Annotations.ToDictionary());
        foreach (var container in containers)
        {
            if (usage.Containers.TryGetValue(container.Id, out var containerUsage))
            {
                stats.Linux.Containers.Add(ToStats(container, containerUsage, rates));
            }
        }

        return stats;
    }

    /// <summary>CRI's resources from the OCI <c>linux.resources</c> the container has.</summary>
    public static LinuxContainerResources ResourcesFromOci(string resourcesJson)
    {
        ArgumentNullException.ThrowIfNull(resourcesJson);
        var result = new LinuxContainerResources();
        if (JsonNode.Parse(resourcesJson) is not JsonObject resources)
        {
            return result;
        }

        if (resources["cpu"] is JsonObject cpu)
        {
            result.CpuShares = Number(cpu, "shares");
            result.CpuQuota = Number(cpu, "quota");
            result.CpuPeriod = Number(cpu, "period");
            result.CpusetCpus = cpu["cpus"]?.GetValue<string>() ?? string.Empty;
            result.CpusetMems = cpu["mems"]?.GetValue<string>() ?? string.Empty;
        }

        if (resources["memory"] is JsonObject memory)
        {
            result.MemoryLimitInBytes = Number(memory, "limit");
            result.MemorySwapLimitInBytes = Number(memory, "swap");
        }

        if (resources["hugepageLimits"] is JsonArray hugepages)
        {
            result.HugepageLimits.Add(hugepages.OfType<JsonObject>().Select(h => new HugepageLimit
            {
                PageSize = h["pageSize"]?.GetValue<string>() ?? string.Empty,
                Limit = (ulong)Number(h, "limit"),
            }));
        }

        if (resources["unified"] is JsonObject unified)
        {
            result.Unified.Add(unified.ToDictionary(u => u.Key, u => u.Value?.GetValue<string>() ?? string.Empty));
        }

        return result;
    }

    /// <summary>The uid, gid and groups of the container's process (from its OCI process JSON).</summary>
    public static ContainerUser UserFromProcess(string processJson)
    {
        ArgumentNullException.ThrowIfNull(processJson);
        var linux = new LinuxContainerUser();
        if (JsonNode.Parse(processJson)?["user"] is JsonObject user)
        {
            linux.Uid = Number(user, "uid");
            linux.Gid = Number(user, "gid");
            if (user["additionalGids"] is JsonArray groups)
            {
                linux.SupplementalGroups.Add(groups.Select(g => g?.GetValue<long>() ?? 0));
            }
        }

        return new ContainerUser { Linux = linux };
    }

    /// <summary>The parts of a built OCI spec the agent keeps: the whole, its process and its resources.</summary>
    public static ContainerSpec ToContainerSpec(JsonObject spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return new ContainerSpec(
            JsonSerializer.SerializeToUtf8Bytes(spec),
            spec["process"]?.ToJsonString() ?? "{}",
            spec["linux"]?["resources"]?.ToJsonString() ?? "{}");
    }

    public static Runtime.V1.ContainerState ToCri(DomainContainerState state) => state switch
    {
        DomainContainerState.Created => Runtime.V1.ContainerState.ContainerCreated,
        DomainContainerState.Running => Runtime.V1.ContainerState.ContainerRunning,
        DomainContainerState.Exited => Runtime.V1.ContainerState.ContainerExited,
        _ => Runtime.V1.ContainerState.ContainerUnknown,
    };

    public static DomainContainerState ToDomain(Runtime.V1.ContainerState state) => state switch
    {
        Runtime.V1.ContainerState.ContainerCreated => DomainContainerState.Created,
        Runtime.V1.ContainerState.ContainerRunning => DomainContainerState.Running,
        Runtime.V1.ContainerState.ContainerExited => DomainContainerState.Exited,
        _ => DomainContainerState.Unknown,
    };

    private static Runtime.V1.ContainerMetadata ToCri(DomainContainerMetadata metadata) =>
        new() { Name = metadata.Name, Attempt = metadata.Attempt };

    private static LinuxContainerResources WithHostCpuset(LinuxContainerResources resources, HostCpuset cpuset)
    {
        resources.CpusetCpus = cpuset.Cpus;
        resources.CpusetMems = cpuset.Mems;
        return resources;
    }

    private static Runtime.V1.ImageSpec ImageSpec(DomainContainer container) =>
        new()
        {
            Image = container.Image.Reference,
            UserSpecifiedImage = container.Image.UserSpecified.Length > 0 ? container.Image.UserSpecified : container.Image.Reference,
            ImageRef = container.Image.Ref,
        };

    private static CpuUsage Cpu(ResourceUsage usage, ulong? nanoCores)
    {
        var cpu = new CpuUsage { Timestamp = usage.Timestamp, UsageCoreNanoSeconds = new UInt64Value { Value = usage.CpuNanoseconds } };
        if (nanoCores is { } rate)
        {
            cpu.UsageNanoCores = new UInt64Value { Value = rate };
        }

        return cpu;
    }

    /// <summary>The pod VM's interfaces; eth0, the pod network's, is the default one.</summary>
    private static NetworkUsage? Network(PodUsage usage)
    {
        if (usage.Interfaces.Count == 0)
        {
            return null;
        }

        static NetworkInterfaceUsage Interface(InterfaceUsage nic) => new()
        {
            Name = nic.Name,
            RxBytes = new UInt64Value { Value = nic.RxBytes },
            RxErrors = new UInt64Value { Value = nic.RxErrors },
            TxBytes = new UInt64Value { Value = nic.TxBytes },
            TxErrors = new UInt64Value { Value = nic.TxErrors },
        };
        var network = new NetworkUsage { Timestamp = usage.Vm.Timestamp };
        if (usage.Interfaces.FirstOrDefault(n => n.Name == "eth0") is { } pod)
        {
            network.DefaultInterface = Interface(pod);
        }

        network.Interfaces.Add(usage.Interfaces.Where(n => n.Name != "eth0").Select(Interface));
        return network;
    }

    private static MemoryUsage Memory(ResourceUsage usage, ulong total = 0)
    {
        var memory = new MemoryUsage
        {
            Timestamp = usage.Timestamp,
            WorkingSetBytes = new UInt64Value { Value = usage.WorkingSetBytes },
            UsageBytes = new UInt64Value { Value = usage.MemoryUsageBytes },
            RssBytes = new UInt64Value { Value = usage.RssBytes },
            PageFaults = new UInt64Value { Value = usage.PageFaults },
            MajorPageFaults = new UInt64Value { Value = usage.MajorPageFaults },
        };
        if (total > 0)
        {
            memory.AvailableBytes = new UInt64Value { Value = total > usage.WorkingSetBytes ? total - usage.WorkingSetBytes : 0 };
        }

        return memory;
    }

    private static long Number(JsonObject json, string name) =>
        json[name] is JsonValue value && value.TryGetValue<long>(out var number) ? number : 0;
}
