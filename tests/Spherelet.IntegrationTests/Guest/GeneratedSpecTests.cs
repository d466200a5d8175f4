using Google.Protobuf;
using Runtime.V1;
using Spherelet.Cri.Oci;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;
using Spherelet.Images.Store;

namespace Spherelet.IntegrationTests.Guest;

/// <summary>
/// Specs from the OCI spec generator run by crun in a real pod VM: user, groups, capabilities,
/// no_new_privs, the runtime-default seccomp profile, environment, working directory and the
/// sandbox's hostname and resolv.conf. Needs qemu-system-x86_64 and the built guest; one VM.
/// </summary>
public sealed class GeneratedSpecTests : IClassFixture<BootedGuest>
{
    private readonly BootedGuest _guest;

    public GeneratedSpecTests(BootedGuest guest)
    {
        _guest = guest;
    }

    [Fact]
    public async Task A_generated_spec_runs_with_the_user_capabilities_seccomp_and_sandbox_files_it_asks_for()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _guest.Crx.CallAsync(new Request
        {
            ConfigureSandbox = new ConfigureSandbox { Hostname = "spec-pod", DnsServers = { "10.96.0.10" }, DnsSearches = { "team-a.svc" } },
        }, timeout.Token);
        var container = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = "probe" },
            Command = { "/bin/sh", "-c" },
            Args = { "id; grep -E '^(CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; hostname; cat /etc/resolv.conf; pwd; echo \"$GREETING\"; mount -t tmpfs x /tmp 2>&1 || echo mount refused" },
            Envs = { new KeyValue { Key = "GREETING", Value = ByteString.CopyFromUtf8("from the spec") } },
            Linux = new LinuxContainerConfig
            {
                SecurityContext = new LinuxContainerSecurityContext
                {
                    RunAsUser = new Int64Value { Value = 1000 },
                    RunAsGroup = new Int64Value { Value = 1000 },
                    SupplementalGroups = { 2000 },
                    NoNewPrivs = true,
                    Capabilities = new Capability { DropCapabilities = { "ALL" }, AddCapabilities = { "NET_BIND_SERVICE" } },
                    Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.RuntimeDefault },
                },
            },
        };
        var spec = OciSpecBuilder.Build(new OciSpecInput
        {
            ContainerId = "gen1",
            Container = container,
            Sandbox = new PodSandboxConfig(),
            Image = new ImageConfigInfo { WorkingDir = "/tmp" },
            RootfsPath = "/pod/rootfs",
            SandboxFilesDirectory = "/run/crx/sandbox",
            CgroupsPath = "/spherelet/gen1",
        });

        var process = await _guest.Crx.CreateAttachedAsync(new CreateContainer
        {
            ContainerId = "gen1",
            Bundle = "/run/bundles/gen1",
            OciSpec = ByteString.CopyFromUtf8(spec.ToJsonString()),
        }, timeout.Token);
        await _guest.Crx.CallAsync(new Request { StartContainer = new StartContainer { ContainerId = "gen1" } }, timeout.Token);
        var (stdout, stderr, exit) = await process.CollectAsync(timeout.Token);

        Assert.True(exit.ExitCode == 0, stdout + stderr);
        Assert.True(stdout.Contains("uid=1000 gid=1000 groups=1000,2000", StringComparison.Ordinal), stdout);
        Assert.Contains("CapBnd:\t0000000000000400", stdout, StringComparison.Ordinal); // CAP_NET_BIND_SERVICE only
        Assert.Contains("NoNewPrivs:\t1", stdout, StringComparison.Ordinal);
        Assert.Contains("Seccomp:\t2", stdout, StringComparison.Ordinal);
        Assert.Contains("spec-pod\n", stdout, StringComparison.Ordinal);
        Assert.Contains("nameserver 10.96.0.10", stdout, StringComparison.Ordinal);
        Assert.Contains("/tmp\nfrom the spec\n", stdout, StringComparison.Ordinal);
        Assert.Contains("mount refused", stdout, StringComparison.Ordinal);
        await _guest.Crx.CallAsync(new Request { RemoveContainer = new RemoveContainer { ContainerId = "gen1" } }, timeout.Token);
        Assert.Equal(CrxProtocol.Version, _guest.Crx.Peer.ProtocolVersion);
    }
}
