using System.Globalization;
using Runtime.V1;
using Spherelet.IntegrationTests.Containers;
using Spherelet.IntegrationTests.Images;
using Spherelet.IntegrationTests.Sandboxes;
using Spherelet.Network;

namespace Spherelet.IntegrationTests.Network;

/// <summary>
/// Pod VMs on a namespace segment of the real Open vSwitch (netdev datapath here), through CRI.
/// Needs root, libvirtd, OVS and the built guest (scripts/setup). The test uses a bridge, a pod
/// CIDR and VLANs of its own and removes them.
/// </summary>
public sealed class PodNetworkTests : IAsyncLifetime
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(120);
    private readonly TestDirectory _dir = new();
    private readonly OvsSwitch _ovs = new("/run/openvswitch/db.sock");
    private readonly string _bridge = "sphnet" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
    private readonly int _firstVlan = 3000 + (System.Security.Cryptography.RandomNumberGenerator.GetInt32(90) * 10);
    private readonly int _subnet = 1 + System.Security.Cryptography.RandomNumberGenerator.GetInt32(250);
    private RegistryServer? _registry;

    public async Task InitializeAsync() => _registry = await RegistryServer.StartAsync();

    public async Task DisposeAsync()
    {
        await Virsh.RemoveDomainsOfAgentAsync(_dir.Root);
        for (var vlan = _firstVlan; vlan < _firstVlan + 10; vlan++)
        {
            await _ovs.RemoveGatewayPortAsync(_bridge, vlan, CancellationToken.None);
        }

        await _ovs.DeleteBridgeAsync(_bridge, CancellationToken.None);
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task Pods_get_addresses_on_their_namespaces_segment_reach_each_other_their_gateway_and_other_segments_and_leave_nothing_behind()
    {
        var imageId = await ContainerTestImage.PushAsync(_registry!);
        var image = $"{_registry!.Host}/{ContainerTestImage.Repository}:{ContainerTestImage.Tag}";
        var environment = SandboxDaemon.Environment();
        environment["SPHERELET__OVS__BRIDGE"] = _bridge;
        environment["SPHERELET__OVS__FIRSTVLAN"] = _firstVlan.ToString(CultureInfo.InvariantCulture);
        environment["SPHERELET__OVS__LASTVLAN"] = (_firstVlan + 9).ToString(CultureInfo.InvariantCulture);
        using var daemon = DaemonProcess.Start(_dir, environment);
        using var client = await daemon.ConnectAsync();
        await SandboxDaemon.ListWhenRecoveredAsync(client, Recovery);
        await client.Runtime.UpdateRuntimeConfigAsync(new UpdateRuntimeConfigRequest
        {
            RuntimeConfig = new Runtime.V1.RuntimeConfig { NetworkConfig = new NetworkConfig { PodCidr = $"10.251.{_subnet}.0/24" } },
        });
        Assert.Equal(imageId, (await client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image } })).ImageRef);

        var hostPort = 20000 + System.Security.Cryptography.RandomNumberGenerator.GetInt32(10000);
        PodSandboxConfig WebPod(string name, string @namespace = "team-net")
        {
            var config = SandboxDaemon.Pod(name, @namespace);
            config.PortMappings.Add(new PortMapping { Protocol = Protocol.Tcp, ContainerPort = 8080, HostPort = hostPort });
            return config;
        }

        async Task<(string Pod, string Container, string Ip)> PodAsync(string name, string @namespace = "team-net", PodSandboxConfig? config = null)
        {
            config ??= SandboxDaemon.Pod(name, @namespace);
            var pod = (await client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config })).PodSandboxId;
            var ids = new List<string>();
            foreach (var (container, command) in new[] { ("idle", new[] { "sleep", "1000" }), ("web", new[] { "httpd", "-f", "-p", "8080", "-h", "/www" }) })
            {
                var id = (await client.Runtime.CreateContainerAsync(new CreateContainerRequest
                {
                    PodSandboxId = pod,
                    Config = new ContainerConfig { Metadata = new ContainerMetadata { Name = container }, Image = new ImageSpec { Image = image }, Command = { command } },
                    SandboxConfig = config,
                })).ContainerId;
                await client.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });
                ids.Add(id);
            }

            var status = await client.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = pod });
            return (pod, ids[0], status.Status.Network.Ip);
        }

        async Task<int> PingAsync(string container, string address) =>
            (await client.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = container, Cmd = { "/bin/busybox", "ping", "-c", "2", "-W", "10", address }, Timeout = 60 })).ExitCode;

        var a = await PodAsync("net-a", config: WebPod("net-a"));
        var b = await PodAsync("net-b");
        var c = await PodAsync("net-c", "team-other");
        var gateway = $"10.251.{_subnet}.1";
        var vlan = _firstVlan.ToString(CultureInfo.InvariantCulture);
        var portA = await Vsctl("get", "port", "sphp" + a.Pod[..11], "tag");
        var ownerA = await Vsctl("get", "port", "sphp" + a.Pod[..11], "external_ids:spherelet-pod");

        Assert.Equal($"10.251.{_subnet}.2", a.Ip);
        Assert.Equal($"10.251.{_subnet}.3", b.Ip);
        Assert.Equal(vlan, portA.Trim());
        Assert.Equal("net-a", ownerA.Trim().Trim('"'));
        Assert.Equal(0, await PingAsync(a.Container, b.Ip));
        Assert.Equal(0, await PingAsync(b.Container, gateway));
        // Another namespace's segment: its own VLAN and the next subnet, reached through the gateways (the host routes).
        Assert.Equal($"10.251.{_subnet}.66", c.Ip);
        Assert.Equal((_firstVlan + 1).ToString(CultureInfo.InvariantCulture), (await Vsctl("get", "port", "sphp" + c.Pod[..11], "tag")).Trim());
        Assert.Equal(0, await PingAsync(a.Container, c.Ip));

        // The host port reaches the pod's server from the host (here through the host's gateway address);
        // the rule names this agent's instance and the pod.
        Assert.Contains($":{a.Pod}\"", await HostCommand.RunAsync("nft", ["list", "table", "ip", NftTable.Name], CancellationToken.None), StringComparison.Ordinal);
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) })
        {
            var page = await http.GetStringAsync(new Uri($"http://{gateway}:{hostPort}/"));
            Assert.Contains(ContainerTestImage.WebPage.Trim(), page, StringComparison.Ordinal);
        }

        // Another pod asking for the same host port is refused before its VM boots, and leaves nothing.
        var taken = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = WebPod("net-d") }).ResponseAsync);
        Assert.Equal(Grpc.Core.StatusCode.FailedPrecondition, taken.StatusCode);
        Assert.Contains($"tcp/{hostPort} is taken by pod sandbox {a.Pod}", taken.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(3, (await client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items.Count);

        await client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = a.Pod });
        await client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = b.Pod });
        await client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = c.Pod });

        // Nothing of the pods is left on the switch: their ports, and the segment's gateway with its last pod.
        Assert.Equal(string.Empty, (await Vsctl("list-ports", _bridge)).Trim());
        Assert.DoesNotContain(OvsSwitch.GatewayPortName(_firstVlan), await HostCommand.RunAsync("ip", ["-o", "link", "show"], CancellationToken.None), StringComparison.Ordinal);
        var rules = await HostCommand.RunAsync("nft", ["list", "table", "ip", NftTable.Name], CancellationToken.None);
        Assert.DoesNotContain(a.Pod, rules, StringComparison.Ordinal);
    }

    private static Task<string> Vsctl(params string[] arguments) =>
        HostCommand.RunAsync("ovs-vsctl", ["--db=unix:/run/openvswitch/db.sock", .. arguments], CancellationToken.None);
}
