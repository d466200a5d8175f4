using Grpc.Core;
using Runtime.V1;
using Spherelet.IntegrationTests.Containers;
using Spherelet.IntegrationTests.Images;
using Spherelet.IntegrationTests.Sandboxes;
using Spherelet.Testing.Kubelet;

namespace Spherelet.IntegrationTests.Kubelet;

/// <summary>
/// A node as a kubelet sees it: the real daemon, a registry with the test image (pulled through CRI
/// as the kubelet pulls it), and a kubelet root and pod log root of its own where the test writes
/// what a kubelet writes. Needs root, libvirtd, the built guest and docker-registry.
/// </summary>
public sealed class KubeletNode : IAsyncLifetime
{
    private RegistryServer? _registry;
    private DaemonProcess? _daemon;
    private CriClient? _client;

    public TestDirectory Dir { get; } = new();

    public string KubeletRoot => Path.Combine(Dir.Path, "kubelet");

    public string PodLogsRoot => Path.Combine(Dir.Path, "pods-logs");

    /// <summary>The image as a pod spec names it.</summary>
    public string Image => $"{Registry.Host}/{ContainerTestImage.Repository}:{ContainerTestImage.Tag}";

    /// <summary>The image id PullImage answered: what the kubelet puts in CreateContainer.</summary>
    public string ImageId { get; private set; } = string.Empty;

    public RegistryServer Registry => _registry ?? throw new InvalidOperationException("the registry is not started");

    public DaemonProcess Daemon => _daemon ?? throw new InvalidOperationException("the daemon is not running");

    public CriClient Client => _client ?? throw new InvalidOperationException("the daemon is not running");

    public RuntimeService.RuntimeServiceClient Runtime => Client.Runtime;

    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync();
        await ContainerTestImage.PushAsync(_registry);
        var environment = SandboxDaemon.Environment();
        // A RuntimeClass for pods that want hugepages (the default handler gives none; only libvirt VMs take them).
        environment["SPHERELET__RUNTIMEHANDLERS__hugepages__HUGEPAGESMAXMIB"] = "128";
        environment["SPHERELET__RUNTIMEHANDLERS__hugepages__VMM"] = "libvirt";
        _daemon = DaemonProcess.Start(Dir, environment);
        _client = await _daemon.ConnectAsync();
        await SandboxDaemon.ListWhenRecoveredAsync(_client, TimeSpan.FromSeconds(60));
        ImageId = (await _client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = Image } })).ImageRef;
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        _daemon?.Dispose();
        await PodVms.RemoveAllAsync(Dir);
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        Dir.Dispose();
    }

    /// <summary>What the kubelet does before RunPodSandbox: the pod's cgroup, its volumes and files; then RunPodSandbox.</summary>
    public async Task<string> RunPodAsync(KubePod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        PodCgroups.Create(pod.CgroupParent);
        KubeletRequests.PrepareNode(pod);
        return (await Runtime.RunPodSandboxAsync(KubeletRequests.RunPodSandbox(pod), deadline: DateTime.UtcNow.AddMinutes(4))).PodSandboxId;
    }

    /// <summary>CreateContainer then StartContainer, as the kubelet's startContainer does.</summary>
    public async Task<string> StartContainerAsync(KubePod pod, KubeContainer container, string podId)
    {
        var id = (await Runtime.CreateContainerAsync(KubeletRequests.CreateContainer(pod, container, podId, ImageId), deadline: DateTime.UtcNow.AddMinutes(2))).ContainerId;
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id }, deadline: DateTime.UtcNow.AddMinutes(2));
        return id;
    }

    /// <summary>The kubelet's KillPod and garbage collection: StopContainer (grace 2 s) for each, StopPodSandbox, then StopPodSandbox and RemovePodSandbox again.</summary>
    public async Task KillAndRemovePodAsync(string podId, IEnumerable<string> containerIds)
    {
        await Task.WhenAll(containerIds.Select(id => Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 2 }).ResponseAsync));
        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await Runtime.StopPodSandboxAsync(new StopPodSandboxRequest { PodSandboxId = podId });
        await Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId }, deadline: DateTime.UtcNow.AddMinutes(2));
    }

    /// <summary>The VM name and its QEMU's pid, from the verbose status and libvirtd's pid file.</summary>
    public async Task<(string VmName, int Pid)> VmOfAsync(string podId)
    {
        var status = await Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = podId, Verbose = true });
        var vmName = System.Text.Json.JsonDocument.Parse(status.Info["info"]).RootElement.GetProperty("vmName").GetString()!;
        return (vmName, Microvms.AnyQemuPid(vmName));
    }

    /// <summary>Polls ContainerStatus until the container exited.</summary>
    public async Task<ContainerStatus> WaitUntilExitedAsync(string id)
    {
        var deadline = DateTime.UtcNow + ContainerPod.Slow;
        while (true)
        {
            var status = (await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id })).Status;
            if (status.State == ContainerState.ContainerExited || DateTime.UtcNow > deadline)
            {
                return status;
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The stdout messages of a container's CRI log, waiting (up to a minute) until <paramref name="expected"/> is among them.</summary>
    public static async Task<IReadOnlyList<string>> StdoutAsync(KubePod pod, KubeContainer container, string expected)
    {
        var path = Path.Combine(pod.LogDirectory, container.Name, "0.log");
        var lines = await ContainerPod.WaitForLogAsync(path, l => l.Any(r => r.Stream == "stdout" && r.Message == expected), ContainerPod.Slow);
        return lines.Where(r => r.Stream == "stdout").Select(r => r.Message).ToList();
    }

    /// <summary>An RPC's status code, or OK when it succeeded.</summary>
    public static async Task<StatusCode> CodeOfAsync(Func<Task> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            await call();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
