using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using Spherelet.Agent.Metrics;
using Spherelet.Agent.Network;
using Spherelet.Domain.Runtime;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Vmm;
using Spherelet.Images;
using Spherelet.Tests.Sandboxes;

namespace Spherelet.Tests.Agent;

/// <summary>The metering decorators and meters over the ports, driven through a real SandboxService on fakes; read back from the registry's text format.</summary>
public sealed class MeteredPortsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sph-metered-").FullName;
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly FakeVmm _vmm = new();
    private readonly FakeGuests _guests = new();
    private readonly FakePodNetwork _network = new() { HasPodCidr = true };
    private readonly MemoryCheckpointStore _checkpoints = new();
    private readonly PodStartMetrics _phases;
    private readonly RecoveryMetrics _recovery;

    public MeteredPortsTests()
    {
        _phases = new PodStartMetrics(_registry);
        _recovery = new RecoveryMetrics(_registry);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private SandboxLayout Layout => new(Path.Combine(_root, "lib"), Path.Combine(_root, "run"));

    private SandboxService NewService() => new(
        new VmmRegistry([new MeteredVmm(_vmm, _phases)]),
        new GuestEndpoints(),
        new MeteredPodGuests(_guests, _phases),
        new FakePodShares(Layout),
        new MeteredPodNetwork(_network, _phases),
        _checkpoints,
        new RuntimeHandlerCatalog([new RuntimeHandler("default", 1, 256, "/k", "/i")], "default"),
        Layout,
        new RuntimeReadiness(),
        new SandboxServiceOptions { ChannelName = "io.spherelet.crx.0" },
        TimeProvider.System,
        NullLogger<SandboxService>.Instance,
        _recovery);

    private static RunPodSandboxCommand Pod(string name) => new()
    {
        Metadata = new PodSandboxMetadata(name, "team-a", "uid-" + name, 0),
        Hostname = name,
    };

    [Fact]
    public async Task A_pod_start_is_counted_once_per_phase_and_an_agent_restart_adds_no_guest_ready_but_counts_the_leftover_vm_it_removed()
    {
        var service = NewService();
        await service.RecoverAsync(CancellationToken.None);
        await service.RunAsync(Pod("web"), CancellationToken.None);

        Assert.Equal(1, await ValueAsync("spherelet_pod_start_phase_duration_seconds_count{phase=\"vm_start\"}"));
        Assert.Equal(1, await ValueAsync("spherelet_pod_start_phase_duration_seconds_count{phase=\"guest_ready\"}"));
        Assert.Equal(1, await ValueAsync("spherelet_pod_start_phase_duration_seconds_count{phase=\"network_attach\"}"));
        Assert.True(await ValueAsync("spherelet_pod_start_phase_duration_seconds_sum{phase=\"vm_start\"}") > 0);
        Assert.Equal(0, await ValueAsync("spherelet_pod_start_phase_duration_seconds_count{phase=\"container_create\"}"));

        // A VM of this agent that no sandbox owns, found by the next agent.
        await _vmm.StartAsync(
            new VmSpec
            {
                Name = "sph-ffffffffffff", Uuid = Guid.NewGuid(), Owner = new VmOwner(new string('f', 64), "team-a", "gone", "uid-gone", 0), VirtualCpus = 1, MemoryMiB = 256,
                KernelPath = "/k", InitramfsPath = "/i", KernelCommandLine = string.Empty, ShareDirectory = "/s", ShareTag = "pod", ChannelSocketPath = "/c", ChannelName = "c", ConsoleLogPath = "/l",
            },
            null,
            CancellationToken.None);
        var restarted = NewService();
        await restarted.RecoverAsync(CancellationToken.None);

        // The restarted agent reconnected to the running guest: not a guest_ready phase.
        Assert.Equal(1, await ValueAsync("spherelet_pod_start_phase_duration_seconds_count{phase=\"guest_ready\"}"));
        Assert.Equal(1, await ValueAsync("spherelet_recovery_leftovers_removed_total{kind=\"vm\"}"));
        Assert.Equal(0, await ValueAsync("spherelet_recovery_leftovers_removed_total{kind=\"pod_directory\"}"));
    }

    [Fact]
    public async Task A_vm_whose_guest_never_answers_counts_its_vm_start_but_no_guest_ready()
    {
        var service = NewService();
        await service.RecoverAsync(CancellationToken.None);
        _guests.Unreachable = true;
        await Assert.ThrowsAsync<Spherelet.Domain.Errors.GuestUnavailableException>(() => service.RunAsync(Pod("mute"), CancellationToken.None));

        Assert.Equal(1, await ValueAsync("spherelet_pod_start_phase_duration_seconds_count{phase=\"vm_start\"}"));
        Assert.Equal(0, await ValueAsync("spherelet_pod_start_phase_duration_seconds_count{phase=\"guest_ready\"}"));

        _guests.Unreachable = false;
        await service.RunAsync(Pod("web"), CancellationToken.None);
        Assert.Equal(2, await ValueAsync("spherelet_pod_start_phase_duration_seconds_count{phase=\"vm_start\"}"));
        Assert.Equal(1, await ValueAsync("spherelet_pod_start_phase_duration_seconds_count{phase=\"guest_ready\"}"));
    }

    [Fact]
    public async Task Image_pulls_count_fetched_bytes_durations_and_failures_by_reason()
    {
        var pulls = new ImagePullMetrics(_registry);
        pulls.Pulled(TimeSpan.FromSeconds(2), 1000);
        pulls.Failed(TimeSpan.FromSeconds(1), 24, ImageManager.FailureReason(new ImageException(ImageErrorKind.NotFound, "no such tag")));
        pulls.Failed(TimeSpan.FromSeconds(1), 0, ImageManager.FailureReason(new ImageException(ImageErrorKind.DigestMismatch, "bad blob")));
        pulls.Failed(TimeSpan.FromSeconds(1), 0, ImageManager.FailureReason(new IOException("disk full")));

        Assert.Equal(1, await ValueAsync("spherelet_image_pull_duration_seconds_count"));
        Assert.Equal(2, await ValueAsync("spherelet_image_pull_duration_seconds_sum"));
        Assert.Equal(1024, await ValueAsync("spherelet_image_pull_bytes_total"));
        Assert.Equal(1, await ValueAsync("spherelet_image_pull_failures_total{reason=\"not_found\"}"));
        Assert.Equal(1, await ValueAsync("spherelet_image_pull_failures_total{reason=\"digest_mismatch\"}"));
        Assert.Equal(1, await ValueAsync("spherelet_image_pull_failures_total{reason=\"io\"}"));
    }

    [Fact]
    public async Task Network_drift_is_counted_by_scope_when_found_and_when_repaired()
    {
        var drift = new NetworkDriftMetrics(_registry);
        drift.Found(new DriftFinding(null, null, "IPv4 forwarding is off"));
        drift.Found(new DriftFinding(101, null, "gateway down"));
        drift.Found(new DriftFinding(null, "abc", "pod NIC not on the bridge"));
        drift.Repaired(new DriftFinding(101, null, "gateway down"));

        Assert.Equal(1, await ValueAsync("spherelet_network_drift_found_total{scope=\"node\"}"));
        Assert.Equal(1, await ValueAsync("spherelet_network_drift_found_total{scope=\"segment\"}"));
        Assert.Equal(1, await ValueAsync("spherelet_network_drift_found_total{scope=\"pod_port\"}"));
        Assert.Equal(1, await ValueAsync("spherelet_network_drift_repaired_total{scope=\"segment\"}"));
        Assert.Equal(0, await ValueAsync("spherelet_network_drift_repaired_total{scope=\"pod_port\"}"));
    }

    /// <summary>The value of the sample written exactly as <paramref name="sample"/> (name and labels) in the registry's text format.</summary>
    private async Task<double> ValueAsync(string sample)
    {
        using var stream = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(stream);
        var line = Encoding.UTF8.GetString(stream.ToArray()).Split('\n').SingleOrDefault(l => l.StartsWith(sample + " ", StringComparison.Ordinal))
            ?? throw new Xunit.Sdk.XunitException($"no sample {sample}");
        return double.Parse(line[(sample.Length + 1)..], CultureInfo.InvariantCulture);
    }
}
