namespace Spherelet.Testing.Kubelet;

/// <summary>A container of a <see cref="KubePod"/>, with the fields of a Kubernetes container spec the kubelet reads.</summary>
public sealed record KubeContainer(string Name, string Image)
{
    public IReadOnlyList<string> Command { get; init; } = [];

    public IReadOnlyList<string> Args { get; init; } = [];

    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    public string WorkingDir { get; init; } = string.Empty;

    /// <summary>CPU request and limit in millicores, 0 for none.</summary>
    public long CpuRequestMillis { get; init; }

    public long CpuLimitMillis { get; init; }

    /// <summary>Memory request and limit in bytes, 0 for none.</summary>
    public long MemoryRequestBytes { get; init; }

    public long MemoryLimitBytes { get; init; }

    /// <summary>The host CPUs the kubelet's static CPU manager gave the container (<c>cpuset_cpus</c>), empty for none.</summary>
    public string CpusetCpus { get; init; } = string.Empty;

    /// <summary><c>limits["hugepages-2Mi"]</c> in bytes, 0 for none.</summary>
    public long Hugepages2MiBytes { get; init; }

    /// <summary>Container ports (TCP).</summary>
    public IReadOnlyList<int> Ports { get; init; } = [];

    /// <summary>The restricted Pod Security Standard: runAsNonRoot with this uid, no privilege escalation, drop ALL, seccomp RuntimeDefault.</summary>
    public long? RestrictedAsUser { get; init; }

    public bool Privileged { get; init; }

    /// <summary>An init container with <c>restartPolicy: Always</c>: a sidecar.</summary>
    public bool Sidecar { get; init; }

    /// <summary>volumeMounts: volume name to mount path (read-only as the volume's kind says, or as given).</summary>
    public IReadOnlyList<KubeVolumeMount> VolumeMounts { get; init; } = [];

    /// <summary>volumeDevices (raw block PVCs): volume name to device path.</summary>
    public IReadOnlyDictionary<string, string> VolumeDevices { get; init; } = new Dictionary<string, string>();

    /// <summary>Devices a device plugin gave the container (host path, container path, permissions).</summary>
    public IReadOnlyList<(string HostPath, string ContainerPath, string Permissions)> PluginDevices { get; init; } = [];

    public string TerminationMessagePath { get; init; } = "/dev/termination-log";
}
