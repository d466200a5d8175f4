using System.Diagnostics;
using Grpc.Core;
using Runtime.V1;
using Spherelet.IntegrationTests.Images;
using Spherelet.IntegrationTests.Sandboxes;

namespace Spherelet.IntegrationTests.Containers;

/// <summary>
/// One real daemon, a real registry holding <see cref="ContainerTestImage"/> (pulled through
/// CRI) and one pod VM whose kubelet log directory is <see cref="LogDirectory"/>: what a test
/// class of containers shares (a pod VM boots slowly under TCG, so each class boots one).
/// Needs root, libvirtd at qemu:///system, the built guest and docker-registry. The daemon can
/// be stopped and started again on the same directories (agent restarts).
/// </summary>
public class ContainerPod : IAsyncLifetime
{
    /// <summary>The xunit collection of every container test class: they boot pod VMs one class at a time.</summary>
    public const string Collection = "Containers in pod VMs";

    /// <summary>How long a container may take to get where a test waits for it (VMs are slow under TCG).</summary>
    public static readonly TimeSpan Slow = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(120);

    private RegistryServer? _registry;
    private DaemonProcess? _daemon;
    private CriClient? _client;

    public TestDirectory Dir { get; } = new();

    /// <summary>The image reference the containers use, as given to PullImage.</summary>
    public string Image => $"{Registry.Host}/{ContainerTestImage.Repository}:{ContainerTestImage.Tag}";

    /// <summary>The same image under a tag in the registry that was never pulled.</summary>
    public string NotPulledImage => $"{Registry.Host}/{ContainerTestImage.Repository}:{ContainerTestImage.NotPulledTag}";

    /// <summary>The image id (sha256 of its config).</summary>
    public string ImageId { get; private set; } = string.Empty;

    public RegistryServer Registry => _registry ?? throw new InvalidOperationException("the registry is not started");

    public DaemonProcess Daemon => _daemon ?? throw new InvalidOperationException("the daemon is not running");

    public CriClient Client => _client ?? throw new InvalidOperationException("the daemon is not running");

    public RuntimeService.RuntimeServiceClient Runtime => Client.Runtime;

    /// <summary>The kubelet's log directory of the pod: container log paths are relative to it.</summary>
    public string LogDirectory => Path.Combine(Dir.Path, "pod-logs");

    public PodSandboxConfig PodConfig { get; } = SandboxDaemon.Pod("ctr");

    public string PodId { get; private set; } = string.Empty;

    /// <summary>The daemon's metrics listener on 127.0.0.1 (the same port across agent restarts).</summary>
    public int MetricsPort { get; } = Metrics.PrometheusText.FreePort();

    public async Task InitializeAsync()
    {
        _registry = await RegistryServer.StartAsync();
        ImageId = await ContainerTestImage.PushAsync(_registry);
        await StartDaemonAsync();
        var pulled = await Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = Image } });
        if (pulled.ImageRef != ImageId)
        {
            throw new InvalidOperationException($"pulled {pulled.ImageRef}, pushed {ImageId}");
        }

        Directory.CreateDirectory(LogDirectory);
        PodConfig.LogDirectory = LogDirectory;
        PodId = (await Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = PodConfig, RuntimeHandler = RuntimeHandler })).PodSandboxId;
    }

    public async Task DisposeAsync()
    {
        if (_client is not null && PodId.Length > 0)
        {
            try
            {
                // Removes the pod's containers too.
                await _client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = PodId }, deadline: DateTime.UtcNow.AddMinutes(2));
            }
            catch (RpcException)
            {
                // The leftovers are removed below.
            }
        }

        StopDaemon();
        await PodVms.RemoveAllAsync(Dir);
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        Dir.Dispose();
    }

    /// <summary>Starts the daemon on <see cref="Dir"/> and waits until it has recovered what it had.</summary>
    public async Task StartDaemonAsync()
    {
        if (_daemon is not null)
        {
            throw new InvalidOperationException("the daemon is already running");
        }

        var environment = SandboxDaemon.Environment();
        // Streaming URLs expire soon, so a test can see one refused for its age.
        environment["SPHERELET__STREAMING__TOKENLIFETIMESECONDS"] = "5";
        environment["SPHERELET__METRICS__PORT"] = MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Configure(environment);
        _daemon = DaemonProcess.Start(Dir, environment);
        _client = await _daemon.ConnectAsync();
        await SandboxDaemon.ListWhenRecoveredAsync(_client, Recovery);
    }

    /// <summary>The runtime handler of the pod: empty for the default one.</summary>
    protected virtual string RuntimeHandler => string.Empty;

    /// <summary>More of the daemon's settings (runtime handlers), as environment variables.</summary>
    protected virtual void Configure(Dictionary<string, string> environment)
    {
    }

    /// <summary>Stops the daemon (killed, as <see cref="DaemonProcess.Dispose"/> does); pod VMs and their containers go on.</summary>
    public void StopDaemon()
    {
        _client?.Dispose();
        _client = null;
        _daemon?.Dispose();
        _daemon = null;
    }

    /// <summary>A container of the test image running <paramref name="command"/>, logging to NAME/0.log.</summary>
    public ContainerConfig Container(string name, params string[] command) => new()
    {
        Metadata = new ContainerMetadata { Name = name },
        Image = new ImageSpec { Image = Image },
        Command = { command },
        LogPath = name + "/0.log",
    };

    /// <summary>Where the container's log is on the host: the pod's log directory joined with its log path.</summary>
    public string HostLogPath(ContainerConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return Path.Combine(LogDirectory, config.LogPath);
    }

    public async Task<string> CreateAsync(ContainerConfig config) =>
        (await Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = PodId, Config = config, SandboxConfig = PodConfig })).ContainerId;

    public async Task StartAsync(string id) =>
        await Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });

    /// <summary>Creates and starts the container; returns its id.</summary>
    public async Task<string> RunAsync(ContainerConfig config)
    {
        var id = await CreateAsync(config);
        await StartAsync(id);
        return id;
    }

    public async Task<ContainerStatus> StatusAsync(string id) =>
        (await Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = id })).Status;

    public async Task RemoveAsync(string id) =>
        await Runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = id });

    public async Task<ExecSyncResponse> ExecAsync(string id, long timeoutSeconds, params string[] cmd) =>
        await Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = id, Cmd = { cmd }, Timeout = timeoutSeconds });

    /// <summary>Polls ContainerStatus until the container has exited; throws when it has not within <paramref name="timeout"/> (default <see cref="Slow"/>).</summary>
    public async Task<ContainerStatus> WaitUntilExitedAsync(string id, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Slow);
        while (true)
        {
            var status = await StatusAsync(id);
            if (status.State == ContainerState.ContainerExited)
            {
                return status;
            }

            if (DateTime.UtcNow > deadline)
            {
                var output = Daemon.Output;
                throw new TimeoutException($"container {status.Metadata?.Name} ({id}) is still {status.State} after {timeout ?? Slow}; the daemon's last output:\n{output[Math.Max(0, output.Length - 4000)..]}");
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The complete records of the container's log on the host (none when the file does not exist yet).</summary>
    public async Task<IReadOnlyList<CriLogLine>> LogAsync(ContainerConfig config) => await LogAsync(HostLogPath(config));

    public static async Task<IReadOnlyList<CriLogLine>> LogAsync(string path)
    {
        if (!File.Exists(path))
        {
            return [];
        }

        var text = await File.ReadAllTextAsync(path);
        // A record being written has no newline yet: only complete records count.
        var complete = text[..(text.LastIndexOf('\n') + 1)];
        return complete.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(CriLogLine.Parse).ToList();
    }

    /// <summary>
    /// Polls the container's log until <paramref name="done"/> holds or 10 s (or <paramref name="timeout"/>)
    /// have passed, and returns what it read last: the test asserts on it.
    /// </summary>
    public async Task<IReadOnlyList<CriLogLine>> WaitForLogAsync(ContainerConfig config, Func<IReadOnlyList<CriLogLine>, bool> done, TimeSpan? timeout = null) =>
        await WaitForLogAsync(HostLogPath(config), done, timeout);

    public static async Task<IReadOnlyList<CriLogLine>> WaitForLogAsync(string path, Func<IReadOnlyList<CriLogLine>, bool> done, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(done);
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var lines = await LogAsync(path);
            if (done(lines) || DateTime.UtcNow > deadline)
            {
                return lines;
            }

            await Task.Delay(200);
        }
    }

    /// <summary>The messages of the stdout records of the container's log, waiting (10 s at most) until <paramref name="expected"/> is among them.</summary>
    public async Task<IReadOnlyList<string>> StdoutAsync(ContainerConfig config, string? expected = null)
    {
        var lines = await WaitForLogAsync(config, l => expected is null || l.Any(r => r.Stream == "stdout" && r.Message == expected));
        return lines.Where(r => r.Stream == "stdout").Select(r => r.Message).ToList();
    }
}
