using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Spherelet.Agent.Checks;
using Spherelet.Agent.Containers;
using Spherelet.Agent.Images;
using Spherelet.Agent.Mounts;
using Spherelet.Agent.Network;
using Spherelet.Agent.Node;
using Spherelet.Agent.Options;
using Spherelet.Agent.Sandboxes;
using Spherelet.Agent.Streaming;
using Spherelet.Agent.Transport;
using Spherelet.Agent.Virtualization;
using Spherelet.Cri;
using Spherelet.Crx.Protocol;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Health;
using Spherelet.Domain.Network;
using Spherelet.Domain.Node;
using Spherelet.Domain.Runtime;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Streaming;
using Spherelet.Domain.Vmm;
using Spherelet.Guest;
using Spherelet.Images;
using Spherelet.Streaming;
using Spherelet.Images.Registry;
using Spherelet.Images.Unpacking;
using Spherelet.Libvirt.Vmm;
using Spherelet.Microvm;
using Spherelet.Network;

namespace Spherelet.Agent.Hosting;

/// <summary>The composition root of the daemon: services, Kestrel on the CRI socket, gRPC.</summary>
public static class DaemonHost
{
    /// <summary>CRI messages can be large (ListContainers on a busy node); the kubelet allows 16 MiB.</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    public static WebApplication Build(SphereletOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ContentRootPath = AppContext.BaseDirectory,
            Args = [],
        });

        // Options are bound and validated by OptionsLoader; the host reads nothing else.
        builder.Configuration.Sources.Clear();
        ConfigureLogging(builder, Enum.Parse<LogLevel>(options.LogLevel, ignoreCase: true));
        ConfigureSystemd(builder.Services);

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.ListenUnixSocket(options.Socket, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                listen.Use(Http2AuthorityMiddleware.Wrap);
            });
        });

        var cgroupDriver = CgroupDriverDetector.Resolve(SphereletOptionsValidator.ParseCgroupDriver(options.CgroupDriver)!);
        var services = builder.Services;
        // With the metrics listener off, nothing is metered: the ports are used as they are.
        var metered = options.Metrics.Port != 0;
        services.AddSingleton(options);
        services.AddSingleton(Prometheus.Metrics.DefaultRegistry);
        if (metered)
        {
            services.AddSingleton<Metrics.PodStartMetrics>();
            services.AddSingleton<IImagePullMeter, Metrics.ImagePullMetrics>();
            services.AddSingleton<IGuestChannelMeter, Metrics.GuestChannelMetrics>();
            services.AddSingleton<INetworkDriftMeter, Metrics.NetworkDriftMetrics>();
            services.AddSingleton<IRecoveryMeter, Metrics.RecoveryMetrics>();
        }

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new NodeFacts(cgroupDriver));
        services.AddSingleton(sp => new LibvirtConnector(options.LibvirtUri, sp.GetRequiredService<ILogger<LibvirtConnector>>()));
        services.AddSingleton(new GuestChannelOptions
        {
            ConnectTimeout = TimeSpan.FromSeconds(options.Guest.ConnectTimeoutSeconds),
            KeepaliveInterval = TimeSpan.FromSeconds(options.Guest.KeepaliveIntervalSeconds),
            KeepaliveTimeout = TimeSpan.FromSeconds(options.Guest.KeepaliveTimeoutSeconds),
            CallTimeout = TimeSpan.FromSeconds(options.Guest.CallTimeoutSeconds),
            HostVersion = RuntimeIdentity.Version,
        });
        services.AddSingleton<GuestConnections>();
        services.AddSingleton<GuestEndpoints>();
        services.AddSingleton<PodGuests>();
        AddPort<IPodGuests, PodGuests>(services, metered, (guests, phases) => new Metrics.MeteredPodGuests(guests, phases));
        services.AddSingleton<IHostDevices, Containers.HostDevices>();
        services.AddSingleton<IHostLogFiles, Containers.HostLogFiles>();
        services.AddSingleton(new NetworkAllocator(
            new FileNetworkAllocationStore(options.Root),
            new NetworkAllocatorOptions { SegmentPrefixLength = options.Ovs.SegmentPrefixLength, FirstVlan = options.Ovs.FirstVlan, LastVlan = options.Ovs.LastVlan }));
        services.AddSingleton(new OvsSwitch(options.Ovs.DbSocket));
        services.AddSingleton(PodNetworkSettingsFrom(options));
        services.AddSingleton(sp => new OvsPodNetwork(
            sp.GetRequiredService<NodeConfig>(),
            sp.GetRequiredService<NetworkAllocator>(),
            sp.GetRequiredService<OvsSwitch>(),
            new NftHostPorts(sp.GetRequiredService<AgentInstance>().Id),
            new NftEgress(sp.GetRequiredService<AgentInstance>().Id),
            new OvsIsolation(options.Ovs.RunDirectory, sp.GetRequiredService<AgentInstance>().Id),
            new OvsPortSecurity(options.Ovs.RunDirectory, sp.GetRequiredService<AgentInstance>().Id),
            sp.GetRequiredService<PodNetworkSettings>(),
            sp.GetRequiredService<ILogger<OvsPodNetwork>>(),
            sp.GetService<INetworkDriftMeter>(),
            sp.GetService<IRecoveryMeter>()));
        AddPort<IPodNetwork, OvsPodNetwork>(services, metered, (network, phases) => new Metrics.MeteredPodNetwork(network, phases));
        services.AddHostedService(sp => new NetworkRepairService(
            sp.GetRequiredService<OvsPodNetwork>(),
            TimeSpan.FromSeconds(options.Network.RepairIntervalSeconds),
            sp.GetRequiredService<ILogger<NetworkRepairService>>()));
        var layout = new SandboxLayout(options.Root, options.State);
        services.AddSingleton(layout);
        services.AddSingleton<IPodShares>(sp => new PodShares(layout, Path.Combine(options.Root, "images", "layers", "sha256"), sp.GetRequiredService<ILogger<PodShares>>()));
        services.AddSingleton<ISandboxCheckpointStore, FileSandboxCheckpointStore>();
        services.AddSingleton(new RuntimeHandlerCatalog(
            options.RuntimeHandlers.Select(h => new RuntimeHandler(
                h.Key,
                h.Value.VirtualCpus,
                h.Value.MemoryMiB,
                h.Value.KernelPath.Length > 0 ? h.Value.KernelPath
                    : h.Value.Vmm == MicrovmVmm.BackendName ? options.Guest.PvhKernelPath : options.Guest.KernelPath,
                h.Value.InitramfsPath.Length > 0 ? h.Value.InitramfsPath : options.Guest.InitramfsPath,
                h.Value.MaxVirtualCpus > 0 ? h.Value.MaxVirtualCpus : Environment.ProcessorCount,
                h.Value.MaxMemoryMiB > 0 ? h.Value.MaxMemoryMiB : HostMemory.TotalMiB(),
                h.Value.BlockDeviceSlots,
                h.Value.HugepagesMaxMiB,
                h.Value.Vmm)),
            options.DefaultRuntimeHandler));
        services.AddSingleton<RuntimeReadiness>();
        services.AddSingleton(new SandboxServiceOptions
        {
            ChannelName = CrxProtocol.DefaultChannelName,
            CgroupDriver = cgroupDriver,
            ExtraKernelArguments = string.Equals(options.LogLevel, "Debug", StringComparison.OrdinalIgnoreCase)
                || string.Equals(options.LogLevel, "Trace", StringComparison.OrdinalIgnoreCase) ? "spherelet.log=debug" : string.Empty,
        });
        services.AddSingleton(DomainHostFacts.Detect(options.QemuPath));
        services.AddSingleton(AgentInstance.LoadOrCreate(options.Root));
        services.AddSingleton<Cgroups.VmCgroupPlacer>();
        services.AddSingleton<IVmCgroups>(sp => sp.GetRequiredService<Cgroups.VmCgroupPlacer>());
        services.AddSingleton(sp => new LibvirtVmm(
            sp.GetRequiredService<LibvirtConnector>(), sp.GetRequiredService<DomainHostFacts>(), sp.GetRequiredService<AgentInstance>().Id, sp.GetRequiredService<IVmCgroups>()));
        services.AddSingleton(sp => new MicrovmVmm(
            new MicrovmSettings
            {
                QemuPath = options.QemuPath,
                StateDirectory = Path.Combine(options.State, "microvm"),
                AgentInstance = sp.GetRequiredService<AgentInstance>().Id,
                FirstId = options.Microvm.FirstId,
                MaxVms = options.Microvm.MaxVms,
                Accelerator = HostVirtualization.KvmUsable ? "kvm" : "tcg",
                TscKhz = HostTsc.Khz(),
            },
            sp.GetRequiredService<IVmCgroups>(),
            sp.GetRequiredService<ILogger<MicrovmVmm>>()));
        // The backends the runtime handlers name, and libvirt always (sandboxes checkpointed before backends were chosen are its).
        services.AddSingleton(sp => new VmmRegistry(
            options.RuntimeHandlers.Values.Select(h => h.Vmm).Append(RuntimeHandler.LibvirtVmm).Distinct(StringComparer.Ordinal).Select(name => name switch
            {
                MicrovmVmm.BackendName => (IVmm)sp.GetRequiredService<MicrovmVmm>(),
                _ => sp.GetRequiredService<LibvirtVmm>(),
            }).Select(vmm => metered ? new Metrics.MeteredVmm(vmm, sp.GetRequiredService<Metrics.PodStartMetrics>()) : vmm)));
        services.AddSingleton<SandboxService>();
        services.AddSingleton<GuestContainers>();
        AddPort<IGuestContainers, GuestContainers>(services, metered, (containers, phases) => new Metrics.MeteredGuestContainers(containers, phases));
        services.AddSingleton<IContainerCheckpointStore, FileContainerCheckpointStore>();
        services.AddSingleton(new ContainerServiceOptions { LogSpoolBytes = options.Guest.LogSpoolMiB * 1024L * 1024 });
        services.AddSingleton<ContainerService>();
        services.AddSingleton<Spherelet.Domain.Pods.PodLifecycle>();
        services.AddSingleton<Spherelet.Domain.Events.PodEvents>();
        services.AddSingleton<CpuRates>();
        services.AddHostedService<SandboxRecoveryService>();
        services.AddSingleton(new StreamingServerOptions(
            IPAddress.Parse(options.Streaming.Address), options.Streaming.Port, TimeSpan.FromSeconds(options.Streaming.TokenLifetimeSeconds),
            TimeSpan.FromSeconds(options.Streaming.IdleTimeoutSeconds)));
        services.AddSingleton(sp => new StreamRequestCache(TimeProvider.System, sp.GetRequiredService<StreamingServerOptions>().TokenLifetime));
        services.AddSingleton<StreamingSessions>();
        services.AddSingleton<IStreamingRuntime, ContainerStreamingRuntime>();
        services.AddSingleton<StreamingServer>();
        services.AddSingleton<IStreamingEndpoint>(sp => sp.GetRequiredService<StreamingServer>());
        services.AddHostedService<StreamingServerService>();
        services.AddSingleton(new RegistryOptions
        {
            MaxAttempts = options.Images.PullAttempts,
            Hosts = options.Images.Registries.ToDictionary(
                r => r.Key,
                r => new RegistryHostOptions { Mirrors = [.. r.Value.Mirrors], PlainHttp = r.Value.PlainHttp, SkipTlsVerify = r.Value.SkipTlsVerify, SendCredentialsToMirrors = r.Value.SendCredentialsToMirrors },
                StringComparer.OrdinalIgnoreCase),
        });
        services.AddSingleton(sp => new RegistryClient(sp.GetRequiredService<RegistryOptions>(), sp.GetRequiredService<ILogger<RegistryClient>>()));
        services.AddSingleton<LayerUnpacker>();
        services.AddSingleton(sp => new ImageManager(
            Path.Combine(options.Root, "images"),
            sp.GetRequiredService<RegistryClient>(),
            sp.GetRequiredService<LayerUnpacker>(),
            new ContainerImageUsage(new Lazy<ContainerService>(sp.GetRequiredService<ContainerService>)),
            TimeProvider.System,
            sp.GetRequiredService<ILogger<ImageManager>>(),
            sp.GetService<IImagePullMeter>()));
        services.AddHostedService<ImageStoreLoadService>();
        services.AddSingleton(sp => new HostHealth(
            HostChecks.Create(options, sp.GetRequiredService<LibvirtConnector>()),
            sp.GetRequiredService<TimeProvider>(),
            TimeSpan.FromSeconds(5)));
        services.AddSingleton<INodeConfigStore, FileNodeConfigStore>();
        services.AddSingleton(sp => new NodeConfig(
            sp.GetRequiredService<INodeConfigStore>(),
            options.Network.PodCidr.Length > 0 ? NodeNetworkConfig.ParsePodCidrs(options.Network.PodCidr) : null));
        services.AddHostedService<SocketPermissionService>();
        services.AddHostedService<StartupReportService>();
        services.AddSingleton(options.Metrics);
        services.AddSingleton<Metrics.RuntimeStateMetrics>();
        services.AddSingleton<Metrics.StreamingMetrics>();
        services.AddHostedService<Metrics.MetricsServerService>();
        services.AddGrpc(grpc =>
        {
            if (metered)
            {
                // Outermost: a call is timed with the status code it was answered with.
                grpc.Interceptors.Add<CriMetricsInterceptor>();
            }

            grpc.Interceptors.Add<CriErrorInterceptor>();
            grpc.MaxReceiveMessageSize = MaxMessageBytes;
            grpc.MaxSendMessageSize = MaxMessageBytes;
        });

        var app = builder.Build();
        app.MapGrpcService<RuntimeServiceAdapter>();
        app.MapGrpcService<ImageServiceAdapter>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Spherelet.Agent");
        AgentLog.Starting(logger, RuntimeIdentity.Version, options.Socket, options.Root, options.State, cgroupDriver);
        app.Lifetime.ApplicationStopped.Register(() => AgentLog.Stopped(logger));
        return app;
    }

    /// <summary>Creates the state directories and readies the socket path.</summary>
    public static void PrepareFilesystem(SphereletOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Directory.CreateDirectory(options.Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(options.State, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        UnixSocketPath.Prepare(options.Socket);
    }

    /// <summary>The pod network's settings from the validated options.</summary>
    public static PodNetworkSettings PodNetworkSettingsFrom(SphereletOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        static IPAddress? Address(string text) => text.Length > 0 ? IPAddress.Parse(text) : null;
        return new PodNetworkSettings(
            options.Ovs.Bridge,
            options.Ovs.ResolveDatapath(),
            options.Network.Mtu,
            options.Network.KeepSegments,
            Address(options.Network.SnatAddress),
            options.Network.Namespaces.ToDictionary(n => n.Key, n => new NamespacePolicy(n.Value.Isolated, Address(n.Value.SnatAddress)), StringComparer.Ordinal));
    }

    /// <summary>Registers a port as its implementation, wrapped in its metering decorator when metrics are on.</summary>
    private static void AddPort<TPort, TImplementation>(IServiceCollection services, bool metered, Func<TImplementation, Metrics.PodStartMetrics, TPort> meter)
        where TPort : class
        where TImplementation : class, TPort =>
        services.AddSingleton(sp => metered
            ? meter(sp.GetRequiredService<TImplementation>(), sp.GetRequiredService<Metrics.PodStartMetrics>())
            : sp.GetRequiredService<TImplementation>());

    private static void ConfigureLogging(WebApplicationBuilder builder, LogLevel level)
    {
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(level);
        // The framework's own chatter is kept to warnings unless the operator asks for Debug or Trace.
        var frameworkLevel = level < LogLevel.Information ? level : LogLevel.Warning;
        builder.Logging.AddFilter("Microsoft", frameworkLevel);
        builder.Logging.AddFilter("Grpc", frameworkLevel);
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.UseUtcTimestamp = true;
            console.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
    }

    /// <summary>
    /// Under systemd: journald-style log lines, READY=1 once the socket serves and
    /// STOPPING=1 on shutdown. The notifications are also sent when NOTIFY_SOCKET is set
    /// by something else than systemd (a supervisor, a test).
    /// </summary>
    private static void ConfigureSystemd(IServiceCollection services)
    {
        services.AddSystemd();
        if (!SystemdHelpers.IsSystemdService() && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")))
        {
            services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
            services.AddSingleton<IHostLifetime, SystemdLifetime>();
        }
    }
}
