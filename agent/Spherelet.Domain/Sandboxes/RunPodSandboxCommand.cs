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
}
