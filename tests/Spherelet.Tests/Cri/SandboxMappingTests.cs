using System.Text.Json;
using Runtime.V1;
using Spherelet.Cri;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Vmm;
using DomainMetadata = Spherelet.Domain.Sandboxes.PodSandboxMetadata;
using DomainSandbox = Spherelet.Domain.Sandboxes.PodSandbox;

namespace Spherelet.Tests.Cri;

public sealed class SandboxMappingTests
{
    [Fact]
    public void Run_request_becomes_a_command_with_cpu_millis_from_quota_and_period()
    {
        var request = new RunPodSandboxRequest
        {
            RuntimeHandler = "fast",
            Config = new PodSandboxConfig
            {
                Metadata = new Runtime.V1.PodSandboxMetadata { Name = "web", Namespace = "team-a", Uid = "u1", Attempt = 3 },
                Hostname = "web-host",
                LogDirectory = "/var/log/pods/team-a_web_u1",
                DnsConfig = new DNSConfig { Servers = { "10.96.0.10" }, Searches = { "svc.cluster.local" }, Options = { "ndots:5" } },
                Labels = { ["app"] = "web" },
                Annotations = { ["note"] = "x" },
                Linux = new LinuxPodSandboxConfig
                {
                    Resources = new LinuxContainerResources { CpuQuota = 150_000, CpuPeriod = 100_000, MemoryLimitInBytes = 1 << 30 },
                    Sysctls = { ["kernel.shm_rmid_forced"] = "1" },
                },
            },
        };

        var command = SandboxMapping.ToCommand(request);

        Assert.Equal(new DomainMetadata("web", "team-a", "u1", 3), command.Metadata);
        Assert.Equal("web-host", command.Hostname);
        Assert.Equal("fast", command.RuntimeHandler);
        Assert.Equal(1500, command.CpuMillis);
        Assert.Equal(1L << 30, command.MemoryLimitBytes);
        Assert.Equal(["10.96.0.10"], command.Dns.Servers);
        Assert.Equal(["ndots:5"], command.Dns.Options);
        Assert.Equal("web", command.Labels["app"]);
        Assert.Equal("1", command.Sysctls["kernel.shm_rmid_forced"]);
    }

    [Fact]
    public void Missing_metadata_maps_to_null_for_the_validator_to_refuse()
    {
        Assert.Null(SandboxMapping.ToCommand(new RunPodSandboxRequest()).Metadata);
    }

    [Fact]
    public void Filter_maps_id_state_and_label_selector()
    {
        var filter = SandboxMapping.ToFilter(new PodSandboxFilter
        {
            Id = "abc",
            State = new PodSandboxStateValue { State = PodSandboxState.SandboxNotready },
            LabelSelector = { ["app"] = "web" },
        });

        Assert.Equal("abc", filter.Id);
        Assert.Equal(SandboxState.NotReady, filter.State);
        Assert.Equal("web", filter.LabelSelector!["app"]);
        Assert.Same(SandboxFilter.All, SandboxMapping.ToFilter(null));
    }

    [Fact]
    public void Verbose_status_names_the_vm_its_state_size_and_boot_time()
    {
        var sandbox = new DomainSandbox
        {
            Id = new string('a', 64),
            Metadata = new DomainMetadata("web", "team-a", "u1", 0),
            Labels = new Dictionary<string, string> { ["app"] = "web" },
            Annotations = new Dictionary<string, string>(),
            RuntimeHandler = "default",
            CreatedAt = 42,
            State = SandboxState.Ready,
            VmName = "sph-aaaaaaaaaaaa",
            VmUuid = Guid.Empty,
            VirtualCpus = 1,
            MemoryMiB = 256,
            Hostname = "web",
            Dns = DnsSettings.None,
            LogDirectory = string.Empty,
            Guest = new GuestInfo("0.1.0", "6.1.0", 1890),
        };
        var vm = new VmStatus("sph-aaaaaaaaaaaa", Guid.Empty, VmState.Running, 2, 512, TimeSpan.FromSeconds(1), null);

        var response = SandboxMapping.ToStatusResponse(new SandboxStatus(sandbox, vm, "libvirt"), verbose: true, timestamp: 7);
        using var info = JsonDocument.Parse(response.Info["info"]);

        Assert.Equal(PodSandboxState.SandboxReady, response.Status.State);
        Assert.Equal(NamespaceMode.Pod, response.Status.Linux.Namespaces.Options.Network);
        Assert.Equal("sph-aaaaaaaaaaaa", info.RootElement.GetProperty("vmName").GetString());
        Assert.Equal("running", info.RootElement.GetProperty("vmState").GetString());
        Assert.Equal(2, info.RootElement.GetProperty("vcpus").GetInt32());
        Assert.Equal(512, info.RootElement.GetProperty("memoryMiB").GetInt32());
        Assert.Equal(1890, info.RootElement.GetProperty("bootToReadyMs").GetInt32());
        Assert.Empty(SandboxMapping.ToStatusResponse(new SandboxStatus(sandbox, vm, "libvirt"), verbose: false, timestamp: 7).Info);
    }
}
