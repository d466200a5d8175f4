namespace Spherelet.Testing.Kubelet;

/// <summary>The representative pods a kubelet runs, as Kubernetes pod specs on a node whose kubelet root and pod log root are given.</summary>
public static class KubeletPods
{
    /// <summary>
    /// A Burstable web pod: requests and limits, a port, a fuse device from a device plugin, and every
    /// kind of volume the kubelet mounts (configMap, secret, projected token, downward API, emptyDir,
    /// and a hostPath that does not exist yet, under <paramref name="nodeData"/>). Its container logs
    /// the configMap's greeting and writes its termination message.
    /// </summary>
    public static KubePod BurstableWeb(string image, string kubeletRoot, string podLogsRoot, string nodeData) => new("shop", "web", "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0")
    {
        KubeletRoot = kubeletRoot,
        PodLogsRoot = podLogsRoot,
        Labels = new Dictionary<string, string> { ["app"] = "web" },
        Volumes =
        [
            new KubeVolume("config", KubeVolumeKind.ConfigMap) { Files = new Dictionary<string, string> { ["greeting"] = "hello from a configmap\n" } },
            new KubeVolume("creds", KubeVolumeKind.Secret) { Files = new Dictionary<string, string> { ["password"] = "s3cret\n" } },
            new KubeVolume("kube-api-access-x7k2p", KubeVolumeKind.Projected) { Files = new Dictionary<string, string> { ["namespace"] = "shop\n" } },
            new KubeVolume("podinfo", KubeVolumeKind.DownwardApi) { Files = new Dictionary<string, string> { ["labels"] = "app=\"web\"\n" } },
            new KubeVolume("cache", KubeVolumeKind.EmptyDir),
            new KubeVolume("node-data", KubeVolumeKind.HostPath) { Path = Path.Combine(nodeData, "made-by-the-runtime") },
        ],
        Containers =
        [
            new KubeContainer("web", image)
            {
                Command = ["sh", "-c", "echo web up; cat /config/greeting; echo bye > /dev/termination-log; while true; do sleep 1; done"],
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
                    new KubeVolumeMount("node-data", "/node-data"),
                ],
            },
        ],
    };

    /// <summary>
    /// A Guaranteed pod with RuntimeClass overhead and an fsGroup: an init container that prepares
    /// a shared emptyDir, a sidecar (restartable init container), and an app container, all under the
    /// restricted Pod Security Standard (uid 1000).
    /// </summary>
    public static KubePod GuaranteedWithInitAndSidecar(string image, string kubeletRoot, string podLogsRoot) => new("shop", "worker", "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a")
    {
        KubeletRoot = kubeletRoot,
        PodLogsRoot = podLogsRoot,
        FsGroup = 2000,
        Overhead = (250, 160L << 20),
        Volumes = [new KubeVolume("work", KubeVolumeKind.EmptyDir)],
        InitContainers =
        [
            Restricted(image, "prepare", ["sh", "-c", "echo prepared > /work/ready; echo init done"], 250, 64) with { VolumeMounts = [new KubeVolumeMount("work", "/work")] },
            Restricted(image, "proxy", ["sh", "-c", "echo sidecar up; while true; do sleep 1; done"], 250, 64) with { Sidecar = true },
        ],
        Containers =
        [
            Restricted(image, "app", ["sh", "-c", "cat /work/ready; id -u; while true; do sleep 1; done"], 1000, 128) with { VolumeMounts = [new KubeVolumeMount("work", "/work")] },
        ],
    };

    private static KubeContainer Restricted(string image, string name, IReadOnlyList<string> command, long cpuMillis, long memoryMiB) => new(name, image)
    {
        Command = command,
        CpuLimitMillis = cpuMillis,
        MemoryLimitBytes = memoryMiB << 20,
        RestrictedAsUser = 1000,
    };
}
