using Spherelet.Testing.Kubelet;

namespace Spherelet.Tests.Cri;

/// <summary>The representative pods a kubelet sends, as Kubernetes pod specs (requests come from <see cref="KubeletRequests"/>).</summary>
internal static class KubeletPods
{
    public const string Image = "registry.test/team/web:1.0";

    /// <summary>A Burstable web pod: requests and limits, a port, an exec probe, every kind of volume the kubelet mounts.</summary>
    public static KubePod BurstableWeb(string root = "/var/lib/kubelet") => new("shop", "web", "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")
    {
        KubeletRoot = root,
        PodLogsRoot = root + "-logs",
        Labels = new Dictionary<string, string> { ["app"] = "web" },
        Volumes =
        [
            new KubeVolume("config", KubeVolumeKind.ConfigMap) { Files = new Dictionary<string, string> { ["greeting"] = "hello from a configmap" } },
            new KubeVolume("creds", KubeVolumeKind.Secret) { Files = new Dictionary<string, string> { ["password"] = "s3cret" } },
            new KubeVolume("kube-api-access-x7k2p", KubeVolumeKind.Projected) { Files = new Dictionary<string, string> { ["token"] = "eyJhbGciOi", ["namespace"] = "shop" } },
            new KubeVolume("podinfo", KubeVolumeKind.DownwardApi) { Files = new Dictionary<string, string> { ["labels"] = "app=\"web\"" } },
            new KubeVolume("cache", KubeVolumeKind.EmptyDir),
        ],
        Containers =
        [
            new KubeContainer("web", Image)
            {
                Command = ["sh", "-c", "echo web up; cat /config/greeting; echo; while true; do sleep 1; done"],
                CpuRequestMillis = 100,
                CpuLimitMillis = 500,
                MemoryRequestBytes = 64L << 20,
                MemoryLimitBytes = 128L << 20,
                Ports = [8080],
                PluginDevices = [("/dev/fuse", "/dev/fuse", "rw")],
                VolumeMounts =
                [
                    new KubeVolumeMount("config", "/config"),
                    new KubeVolumeMount("creds", "/etc/creds"),
                    new KubeVolumeMount("kube-api-access-x7k2p", "/var/run/secrets/kubernetes.io/serviceaccount"),
                    new KubeVolumeMount("podinfo", "/etc/podinfo"),
                    new KubeVolumeMount("cache", "/cache"),
                ],
            },
        ],
    };

    /// <summary>A Guaranteed pod with an init container, a sidecar and an app container under the restricted Pod Security Standard, with RuntimeClass overhead.</summary>
    public static KubePod GuaranteedWithInitAndSidecar(string root = "/var/lib/kubelet") => new("shop", "worker", "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a")
    {
        KubeletRoot = root,
        PodLogsRoot = root + "-logs",
        FsGroup = 2000,
        Overhead = (250, 160L << 20),
        Volumes = [new KubeVolume("work", KubeVolumeKind.EmptyDir)],
        InitContainers =
        [
            new KubeContainer("prepare", Image)
            {
                Command = ["sh", "-c", "echo prepared > /work/ready; echo init done"],
                CpuLimitMillis = 250,
                MemoryLimitBytes = 64L << 20,
                RestrictedAsUser = 1000,
                VolumeMounts = [new KubeVolumeMount("work", "/work")],
            },
            new KubeContainer("proxy", Image)
            {
                Command = ["sh", "-c", "echo sidecar up; while true; do sleep 1; done"],
                CpuLimitMillis = 250,
                MemoryLimitBytes = 64L << 20,
                RestrictedAsUser = 1000,
                Sidecar = true,
            },
        ],
        Containers =
        [
            new KubeContainer("app", Image)
            {
                Command = ["sh", "-c", "cat /work/ready; id -u; while true; do sleep 1; done"],
                CpuLimitMillis = 1000,
                MemoryLimitBytes = 128L << 20,
                RestrictedAsUser = 1000,
                VolumeMounts = [new KubeVolumeMount("work", "/work")],
            },
        ],
    };
}
