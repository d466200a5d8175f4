namespace Spherelet.Testing.Kubelet;

/// <summary>The kinds of pod volume whose host side the kubelet makes (and how it mounts them).</summary>
public enum KubeVolumeKind
{
    ConfigMap,
    Secret,
    Projected,
    DownwardApi,
    EmptyDir,
    HostPath,
    BlockDevice,
}

/// <summary>A pod volume: its kind, its files (for those the kubelet writes), a host path (hostPath) or a block device (raw block PVC).</summary>
public sealed record KubeVolume(string Name, KubeVolumeKind Kind)
{
    public IReadOnlyDictionary<string, string> Files { get; init; } = new Dictionary<string, string>();

    /// <summary>hostPath: the path on the node; BlockDevice: the device node the PV maps to.</summary>
    public string Path { get; init; } = string.Empty;

    /// <summary>The kubelet mounts configMap, secret, projected and downward API volumes read-only, always.</summary>
    public bool AlwaysReadOnly => Kind is KubeVolumeKind.ConfigMap or KubeVolumeKind.Secret or KubeVolumeKind.Projected or KubeVolumeKind.DownwardApi;

    /// <summary>The volume plugin's directory name (<c>kubernetes.io~configmap</c>, ...).</summary>
    public string PluginDirectory => Kind switch
    {
        KubeVolumeKind.ConfigMap => "kubernetes.io~configmap",
        KubeVolumeKind.Secret => "kubernetes.io~secret",
        KubeVolumeKind.Projected => "kubernetes.io~projected",
        KubeVolumeKind.DownwardApi => "kubernetes.io~downward-api",
        KubeVolumeKind.EmptyDir => "kubernetes.io~empty-dir",
        KubeVolumeKind.BlockDevice => "kubernetes.io~csi",
        _ => string.Empty,
    };
}

/// <summary>A container's volumeMount.</summary>
public sealed record KubeVolumeMount(string Volume, string MountPath, bool ReadOnly = false);
