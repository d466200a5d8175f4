namespace Spherelet.Domain.Sandboxes;

/// <summary>A RunPodSandbox request, parsed from CRI into domain terms (not yet validated).</summary>
public sealed record RunPodSandboxCommand
{
    public required PodSandboxMetadata? Metadata { get; init; }

    public string Hostname { get; init; } = string.Empty;

    public string LogDirectory { get; init; } = string.Empty;

    public DnsSettings Dns { get; init; } = DnsSettings.None;

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();

    public string RuntimeHandler { get; init; } = string.Empty;

    /// <summary>Pod sysctls; the VM is the pod, so CRX applies them to the VM.</summary>
    public IReadOnlyDictionary<string, string> Sysctls { get; init; } = new Dictionary<string, string>();

    /// <summary>Host ports forwarded to the pod.</summary>
    public IReadOnlyList<PortMapping> PortMappings { get; init; } = [];

    /// <summary>CPU limit of the pod in millicores (from CFS quota over period), 0 for none.</summary>
    public long CpuMillis { get; init; }

    /// <summary>Memory limit of the pod's containers in bytes, 0 for none.</summary>
    public long MemoryLimitBytes { get; init; }

    /// <summary>The pod's CPU requests as cgroup shares (1024 a CPU), 0 for none: the VM's CPU weight, and its size when no limit is set.</summary>
    public long CpuShares { get; init; }

    /// <summary>The RuntimeClass overhead the kubelet adds to the pod's cgroup for the VM itself.</summary>
    public PodOverhead Overhead { get; init; } = PodOverhead.None;

    /// <summary>
    /// The kubelet's cgroup for the pod (<c>/kubepods/burstable/podUID</c> with the cgroupfs driver,
    /// <c>/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podUID.slice</c> with systemd); empty: the VMM's default place.
    /// </summary>
    public string CgroupParent { get; init; } = string.Empty;

    /// <summary>Host namespaces and a user namespace the pod asked for; a pod VM has none of the host's.</summary>
    public PodNamespaceRequest Namespaces { get; init; } = PodNamespaceRequest.Isolated;

    /// <summary>The pod's SELinux label (user:role:type:level, parts that were set), empty for none.</summary>
    public string SelinuxLabel { get; init; } = string.Empty;
}
