namespace Spherelet.Testing.Kubelet;

/// <summary>
/// A pod as the Kubernetes API holds it, reduced to the fields the kubelet reads when it builds
/// CRI requests (<see cref="KubeletRequests"/>), and the node it runs on.
/// </summary>
public sealed record KubePod(string Namespace, string Name, string Uid)
{
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();

    /// <summary>Init containers, in order; a <see cref="KubeContainer.Sidecar"/> one keeps running.</summary>
    public IReadOnlyList<KubeContainer> InitContainers { get; init; } = [];

    public IReadOnlyList<KubeContainer> Containers { get; init; } = [];

    public IReadOnlyList<KubeVolume> Volumes { get; init; } = [];

    public bool HostNetwork { get; init; }

    public bool HostPid { get; init; }

    public bool HostIpc { get; init; }

    public bool ShareProcessNamespace { get; init; }

    public long? RunAsUser { get; init; }

    public long? FsGroup { get; init; }

    public IReadOnlyDictionary<string, string> Sysctls { get; init; } = new Dictionary<string, string>();

    /// <summary>RuntimeClass overhead (<c>overhead.podFixed</c>): CPU millicores and memory bytes; null for none.</summary>
    public (long CpuMillis, long MemoryBytes)? Overhead { get; init; }

    public string RuntimeHandler { get; init; } = string.Empty;

    /// <summary>The node: the kubelet's root directory (volumes, etc-hosts, termination logs live under it).</summary>
    public string KubeletRoot { get; init; } = "/var/lib/kubelet";

    /// <summary>The node: the kubelet's podLogsDir.</summary>
    public string PodLogsRoot { get; init; } = "/var/log/pods";

    /// <summary>The node: the kubelet's cgroup driver is systemd (else cgroupfs).</summary>
    public bool SystemdCgroups { get; init; }

    /// <summary>The node: cgroup v2 (the kubelet then adds <c>unified</c> keys), else v1 with swap accounting.</summary>
    public bool CgroupV2 { get; init; } = true;

    /// <summary>The node: hugepage sizes it offers, as the kubelet names them (<c>2MB</c>, <c>1GB</c>).</summary>
    public IReadOnlyList<string> HostPageSizes { get; init; } = ["2MB", "1GB"];

    /// <summary>The node's memory, for the Burstable OOM score.</summary>
    public long NodeMemoryBytes { get; init; } = 8L << 30;

    public IEnumerable<KubeContainer> AllContainers => InitContainers.Concat(Containers);

    /// <summary>Guaranteed when every container has CPU and memory limits equal to its requests; BestEffort with none; else Burstable.</summary>
    public string QosClass
    {
        get
        {
            var all = AllContainers.ToList();
            if (all.All(c => c.CpuRequestMillis == 0 && c.CpuLimitMillis == 0 && c.MemoryRequestBytes == 0 && c.MemoryLimitBytes == 0))
            {
                return "BestEffort";
            }

            return all.All(c => c.CpuLimitMillis > 0 && c.MemoryLimitBytes > 0
                && (c.CpuRequestMillis == 0 || c.CpuRequestMillis == c.CpuLimitMillis)
                && (c.MemoryRequestBytes == 0 || c.MemoryRequestBytes == c.MemoryLimitBytes))
                ? "Guaranteed"
                : "Burstable";
        }
    }

    /// <summary>The pod's directory under the kubelet's root.</summary>
    public string PodDirectory => System.IO.Path.Combine(KubeletRoot, "pods", Uid);

    public string LogDirectory => System.IO.Path.Combine(PodLogsRoot, $"{Namespace}_{Name}_{Uid}");

    /// <summary>
    /// The pod's cgroup as the kubelet sends it in <c>cgroup_parent</c>: the cgroupfs path for either
    /// driver (<c>/kubepods/burstable/podUID</c>, or the systemd slice expanded into its path).
    /// </summary>
    public string CgroupParent
    {
        get
        {
            var qos = QosClass switch { "Guaranteed" => null, "Burstable" => "burstable", _ => "besteffort" };
            if (!SystemdCgroups)
            {
                return qos is null ? $"/kubepods/pod{Uid}" : $"/kubepods/{qos}/pod{Uid}";
            }

            var uid = Uid.Replace('-', '_');
            return qos is null
                ? $"/kubepods.slice/kubepods-pod{uid}.slice"
                : $"/kubepods.slice/kubepods-{qos}.slice/kubepods-{qos}-pod{uid}.slice";
        }
    }
}
