using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Runtime.V1;

namespace Spherelet.Testing.Kubelet;

/// <summary>
/// CRI requests built the way the kubelet of the 1.32 line builds them (pkg/kubelet/kuberuntime:
/// generatePodSandboxConfig, generateContainerConfig, determineEffectiveSecurityContext,
/// calculateLinuxResources, GetHugepageLimitsFromResources; pkg/kubelet/kubelet_pods.go: makeMounts,
/// makeDevices), and the files the kubelet writes on the node before it asks (volume directories,
/// etc-hosts, termination-log files), so that a test drives the runtime as a real kubelet would.
/// </summary>
public static class KubeletRequests
{
    /// <summary>The kubelet's default masked paths (sent even for privileged containers).</summary>
    public static readonly IReadOnlyList<string> MaskedPaths =
    [
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ];

    public static readonly IReadOnlyList<string> ReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    public const string ClusterDns = "10.96.0.10";

    public static RunPodSandboxRequest RunPodSandbox(KubePod pod, uint attempt = 0)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return new RunPodSandboxRequest { Config = SandboxConfig(pod, attempt), RuntimeHandler = pod.RuntimeHandler };
    }

    /// <summary>generatePodSandboxConfig: also what CreateContainer and PullImage carry as sandbox_config.</summary>
    public static PodSandboxConfig SandboxConfig(KubePod pod, uint attempt = 0)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = pod.Name, Namespace = pod.Namespace, Uid = pod.Uid, Attempt = attempt },
            Hostname = pod.HostNetwork ? string.Empty : pod.Name,
            LogDirectory = pod.LogDirectory,
            DnsConfig = new DNSConfig
            {
                Servers = { ClusterDns },
                Searches = { $"{pod.Namespace}.svc.cluster.local", "svc.cluster.local", "cluster.local" },
                Options = { "ndots:5" },
            },
            Linux = new LinuxPodSandboxConfig
            {
                CgroupParent = pod.CgroupParent,
                SecurityContext = new LinuxSandboxSecurityContext
                {
                    NamespaceOptions = Namespaces(pod),
                    Privileged = pod.AllContainers.Any(c => c.Privileged),
                    Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.RuntimeDefault },
                },
                Overhead = pod.Overhead is { } overhead ? Resources(pod, overhead.CpuMillis, overhead.CpuMillis, overhead.MemoryBytes) : new LinuxContainerResources(),
                Resources = SandboxResources(pod),
            },
        };
        foreach (var port in pod.Containers.SelectMany(c => c.Ports))
        {
            config.PortMappings.Add(new PortMapping { Protocol = Protocol.Tcp, ContainerPort = port });
        }

        config.Labels.Add(pod.Labels.ToDictionary());
        config.Labels["io.kubernetes.pod.name"] = pod.Name;
        config.Labels["io.kubernetes.pod.namespace"] = pod.Namespace;
        config.Labels["io.kubernetes.pod.uid"] = pod.Uid;
        config.Annotations.Add(pod.Annotations.ToDictionary());
        config.Annotations["kubernetes.io/config.seen"] = "2026-12-04T10:11:12.123456789Z";
        config.Annotations["kubernetes.io/config.source"] = "api";
        config.Linux.Sysctls.Add(pod.Sysctls.ToDictionary());
        if (pod.RunAsUser is { } user)
        {
            config.Linux.SecurityContext.RunAsUser = new Int64Value { Value = user };
        }

        if (pod.FsGroup is { } fsGroup)
        {
            config.Linux.SecurityContext.SupplementalGroups.Add(fsGroup);
        }

        return config;
    }

    /// <summary>generateContainerConfig for one of the pod's containers (init or regular), with the image as PullImage resolved it.</summary>
    public static CreateContainerRequest CreateContainer(KubePod pod, KubeContainer container, string podSandboxId, string imageId, uint attempt = 0)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(container);
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = container.Name, Attempt = attempt },
            Image = new ImageSpec { Image = imageId, UserSpecifiedImage = container.Image },
            WorkingDir = container.WorkingDir,
            LogPath = $"{container.Name}/{attempt}.log",
            Linux = new LinuxContainerConfig
            {
                Resources = ContainerResources(pod, container),
                SecurityContext = SecurityContext(pod, container),
            },
        };
        config.Command.Add(container.Command);
        config.Args.Add(container.Args);
        foreach (var (name, value) in container.Env.Concat(ServiceEnvironment()))
        {
            config.Envs.Add(new KeyValue { Key = name, Value = ByteString.CopyFromUtf8(value) });
        }

        config.Mounts.Add(Mounts(pod, container));
        foreach (var (hostPath, containerPath, permissions) in container.PluginDevices)
        {
            config.Devices.Add(new Device { HostPath = hostPath, ContainerPath = containerPath, Permissions = permissions });
        }

        foreach (var (volume, devicePath) in container.VolumeDevices)
        {
            config.Devices.Add(new Device { HostPath = BlockDeviceMapPath(pod, volume), ContainerPath = devicePath, Permissions = "mrw" });
        }

        config.Labels["io.kubernetes.pod.name"] = pod.Name;
        config.Labels["io.kubernetes.pod.namespace"] = pod.Namespace;
        config.Labels["io.kubernetes.pod.uid"] = pod.Uid;
        config.Labels["io.kubernetes.container.name"] = container.Name;
        config.Annotations["io.kubernetes.container.hash"] = ShortHash(container.Name + "\n" + container.Image).TrimStart('0');
        config.Annotations["io.kubernetes.container.restartCount"] = attempt.ToString(CultureInfo.InvariantCulture);
        config.Annotations["io.kubernetes.container.terminationMessagePath"] = container.TerminationMessagePath;
        config.Annotations["io.kubernetes.container.terminationMessagePolicy"] = "File";
        config.Annotations["io.kubernetes.pod.terminationGracePeriod"] = "30";
        if (container.Ports.Count > 0)
        {
            config.Annotations["io.kubernetes.container.ports"] = JsonSerializer.Serialize(container.Ports.Select(p => new { containerPort = p, protocol = "TCP" }));
        }

        return new CreateContainerRequest { PodSandboxId = podSandboxId, Config = config, SandboxConfig = SandboxConfig(pod) };
    }

    /// <summary>
    /// The exec probe: ExecSync with the probe's timeoutSeconds. A pod's default is 1 s; the tests
    /// default to 10 s because these machines run pod VMs under TCG, about ten times slower than KVM,
    /// where a first exec in a fresh VM on a busy CI machine has taken more than a second.
    /// </summary>
    public static ExecSyncRequest ExecProbe(string containerId, IEnumerable<string> command, long timeoutSeconds = 10)
    {
        var request = new ExecSyncRequest { ContainerId = containerId, Timeout = timeoutSeconds };
        request.Cmd.Add(command);
        return request;
    }

    /// <summary>
    /// What the kubelet writes on the node before CreateContainer: each volume's directory and files,
    /// the pod's etc-hosts, the termination-log file of each container, the block device map links,
    /// the log directory. Returns nothing: the paths are those the requests name.
    /// </summary>
    public static void PrepareNode(KubePod pod, string podIp = "10.244.1.10")
    {
        ArgumentNullException.ThrowIfNull(pod);
        Directory.CreateDirectory(pod.LogDirectory);
        Directory.CreateDirectory(pod.PodDirectory);
        foreach (var volume in pod.Volumes)
        {
            switch (volume.Kind)
            {
                case KubeVolumeKind.HostPath:
                    break; // the node's own path, as written in the pod
                case KubeVolumeKind.BlockDevice:
                    var link = BlockDeviceMapPath(pod, volume.Name);
                    Directory.CreateDirectory(Path.GetDirectoryName(link)!);
                    File.Delete(link);
                    File.CreateSymbolicLink(link, volume.Path);
                    break;
                default:
                    var directory = VolumePath(pod, volume);
                    Directory.CreateDirectory(directory);
                    if (volume.Kind == KubeVolumeKind.EmptyDir)
                    {
                        // The emptyDir plugin makes its directory world-writable (0777), for any container user.
                        File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111);
                    }

                    foreach (var (name, content) in volume.Files)
                    {
                        File.WriteAllText(Path.Combine(directory, name), content);
                    }

                    break;
            }
        }

        File.WriteAllText(
            EtcHostsPath(pod),
            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
            + $"fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n{podIp}\t{pod.Name}\n");
        foreach (var container in pod.AllContainers)
        {
            Directory.CreateDirectory(Path.Combine(pod.LogDirectory, container.Name));
            var file = TerminationLogPath(pod, container);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, string.Empty);
            File.SetUnixFileMode(file, (UnixFileMode)0b110_110_110);
        }
    }

    public static string VolumePath(KubePod pod, KubeVolume volume)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(volume);
        return volume.Kind == KubeVolumeKind.HostPath ? volume.Path : Path.Combine(pod.PodDirectory, "volumes", volume.PluginDirectory, volume.Name);
    }

    public static string EtcHostsPath(KubePod pod) => Path.Combine(pod.PodDirectory, "etc-hosts");

    /// <summary>The kubelet names it with 8 random hex digits; a fixed name per container keeps tests repeatable.</summary>
    public static string TerminationLogPath(KubePod pod, KubeContainer container)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(container);
        return Path.Combine(pod.PodDirectory, "containers", container.Name, ShortHash(container.Name));
    }

    public static string BlockDeviceMapPath(KubePod pod, string volume) =>
        Path.Combine(pod.PodDirectory, "volumeDevices", "kubernetes.io~csi", volume);

    /// <summary>cm.MilliCPUToShares: 0 gives the minimum 2; else millis * 1024 / 1000 within 2..262144.</summary>
    public static long MilliCpuToShares(long millis) => millis == 0 ? 2 : Math.Clamp(millis * 1024 / 1000, 2, 262144);

    /// <summary>milliCPUToQuota with the 100 ms period: 0 for no limit, at least 1000.</summary>
    public static long MilliCpuToQuota(long millis) => millis == 0 ? 0 : Math.Max(millis * 100, 1000);

    /// <summary>8 hex digits that depend only on <paramref name="text"/> (the kubelet's are random or an FNV hash; tests want them repeatable).</summary>
    private static string ShortHash(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)))[..8];

    private static NamespaceOption Namespaces(KubePod pod) => new()
    {
        Network = pod.HostNetwork ? NamespaceMode.Node : NamespaceMode.Pod,
        Pid = pod.HostPid ? NamespaceMode.Node : pod.ShareProcessNamespace ? NamespaceMode.Pod : NamespaceMode.Container,
        Ipc = pod.HostIpc ? NamespaceMode.Node : NamespaceMode.Pod,
    };

    /// <summary>calculateSandboxResources: the pod's effective requests and limits, overhead excluded.</summary>
    private static LinuxContainerResources SandboxResources(KubePod pod)
    {
        static long Effective(KubePod pod, Func<KubeContainer, long> value)
        {
            var regular = pod.Containers.Concat(pod.InitContainers.Where(c => c.Sidecar)).Sum(value);
            var init = pod.InitContainers.Where(c => !c.Sidecar).Select(value).DefaultIfEmpty(0).Max();
            return Math.Max(regular, init);
        }

        var cpuRequest = Effective(pod, c => c.CpuRequestMillis > 0 ? c.CpuRequestMillis : c.CpuLimitMillis);
        var cpuLimit = Effective(pod, c => c.CpuLimitMillis);
        var memoryLimit = Effective(pod, c => c.MemoryLimitBytes);
        return Resources(pod, cpuRequest, cpuLimit, memoryLimit);
    }

    /// <summary>calculateLinuxResources.</summary>
    private static LinuxContainerResources Resources(KubePod pod, long cpuRequestMillis, long cpuLimitMillis, long memoryLimitBytes)
    {
        var resources = new LinuxContainerResources
        {
            CpuShares = MilliCpuToShares(cpuRequestMillis > 0 ? cpuRequestMillis : cpuLimitMillis),
            CpuQuota = MilliCpuToQuota(cpuLimitMillis),
            CpuPeriod = 100_000,
            MemoryLimitInBytes = memoryLimitBytes,
        };
        if (pod.CgroupV2)
        {
            resources.Unified["memory.oom.group"] = "1";
        }

        return resources;
    }

    /// <summary>generateLinuxContainerResources: CPU, memory, OOM score, hugepages for every host page size, swap.</summary>
    private static LinuxContainerResources ContainerResources(KubePod pod, KubeContainer container)
    {
        var resources = Resources(pod, container.CpuRequestMillis, container.CpuLimitMillis, container.MemoryLimitBytes);
        resources.CpusetCpus = container.CpusetCpus;
        resources.OomScoreAdj = pod.QosClass switch
        {
            "Guaranteed" => -997,
            "BestEffort" => 1000,
            _ => Math.Min(999, Math.Max(3, 1000 - (1000 * (container.MemoryRequestBytes > 0 ? container.MemoryRequestBytes : 0) / pod.NodeMemoryBytes))),
        };
        foreach (var size in pod.HostPageSizes)
        {
            resources.HugepageLimits.Add(new HugepageLimit { PageSize = size, Limit = size == "2MB" ? (ulong)container.Hugepages2MiBytes : 0 });
        }

        if (pod.CgroupV2)
        {
            resources.Unified["memory.swap.max"] = "0";
        }
        else if (container.MemoryLimitBytes > 0)
        {
            resources.MemorySwapLimitInBytes = container.MemoryLimitBytes;
        }

        return resources;
    }

    /// <summary>determineEffectiveSecurityContext for a container without a security context, or under the restricted standard.</summary>
    private static LinuxContainerSecurityContext SecurityContext(KubePod pod, KubeContainer container)
    {
        var security = new LinuxContainerSecurityContext
        {
            NamespaceOptions = Namespaces(pod),
            Privileged = container.Privileged,
            RunAsUser = new Int64Value { Value = container.RestrictedAsUser ?? pod.RunAsUser ?? 0 },
            Seccomp = new SecurityProfile
            {
                ProfileType = container.RestrictedAsUser is null ? SecurityProfile.Types.ProfileType.Unconfined : SecurityProfile.Types.ProfileType.RuntimeDefault,
            },
        };
        security.MaskedPaths.Add(MaskedPaths);
        security.ReadonlyPaths.Add(ReadonlyPaths);
        if (container.RestrictedAsUser is not null)
        {
            security.Capabilities = new Capability { DropCapabilities = { "ALL" } };
            security.NoNewPrivs = true;
        }

        if (pod.FsGroup is { } fsGroup)
        {
            security.SupplementalGroups.Add(fsGroup);
        }

        return security;
    }

    /// <summary>makeMounts: one mount per volumeMount in order, then /etc/hosts, then the termination-log file.</summary>
    private static IEnumerable<Mount> Mounts(KubePod pod, KubeContainer container)
    {
        foreach (var mount in container.VolumeMounts)
        {
            var volume = pod.Volumes.Single(v => v.Name == mount.Volume);
            yield return new Mount
            {
                ContainerPath = mount.MountPath,
                HostPath = VolumePath(pod, volume),
                Readonly = mount.ReadOnly || volume.AlwaysReadOnly,
                Propagation = MountPropagation.PropagationPrivate,
            };
        }

        if (!container.VolumeMounts.Any(m => m.MountPath == "/etc/hosts"))
        {
            yield return new Mount { ContainerPath = "/etc/hosts", HostPath = EtcHostsPath(pod) };
        }

        yield return new Mount { ContainerPath = container.TerminationMessagePath, HostPath = TerminationLogPath(pod, container) };
    }

    /// <summary>The service link variables of the kubernetes service, which every pod gets.</summary>
    private static IEnumerable<KeyValuePair<string, string>> ServiceEnvironment() =>
        new Dictionary<string, string>
        {
            ["KUBERNETES_SERVICE_HOST"] = "10.96.0.1",
            ["KUBERNETES_SERVICE_PORT"] = "443",
            ["KUBERNETES_SERVICE_PORT_HTTPS"] = "443",
            ["KUBERNETES_PORT"] = "tcp://10.96.0.1:443",
            ["KUBERNETES_PORT_443_TCP"] = "tcp://10.96.0.1:443",
            ["KUBERNETES_PORT_443_TCP_PROTO"] = "tcp",
            ["KUBERNETES_PORT_443_TCP_PORT"] = "443",
            ["KUBERNETES_PORT_443_TCP_ADDR"] = "10.96.0.1",
        };
}
