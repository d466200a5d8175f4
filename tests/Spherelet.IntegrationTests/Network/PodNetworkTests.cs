using System.Diagnostics;
using System.Globalization;
using Grpc.Core;
using Runtime.V1;
using Spherelet.IntegrationTests.Containers;
using Spherelet.IntegrationTests.Images;
using Spherelet.IntegrationTests.Sandboxes;
using Spherelet.Network;

namespace Spherelet.IntegrationTests.Network;

/// <summary>
/// Pod VMs on namespace segments of the real Open vSwitch (netdev datapath here), through CRI.
/// Needs root, libvirtd, OVS, nft, busybox on the host and the built guest (scripts/setup). Each
/// test uses a bridge, a pod CIDR, VLANs and a network namespace ("outside": a world beyond the
/// pod CIDR) of its own and removes them.
/// </summary>
public sealed partial class PodNetworkTests : IAsyncLifetime
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(120);
    private readonly TestDirectory _dir = new();
    private readonly OvsSwitch _ovs = new("/run/openvswitch/db.sock");
    private readonly string _tag = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
    private readonly int _firstVlan = 3000 + (System.Security.Cryptography.RandomNumberGenerator.GetInt32(90) * 10);
    private readonly int _subnet = 1 + System.Security.Cryptography.RandomNumberGenerator.GetInt32(250);
    private readonly List<Process> _servers = [];
    private readonly List<DaemonProcess> _daemons = [];
    private RegistryServer? _registry;
    private string _image = string.Empty;
    private string? _outside;

    private string Bridge => "sphnet" + _tag;

    private string PodCidr => $"10.251.{_subnet}.0/24";

    private string PodCidrV6 => $"fd00:251:{_subnet:x}::/64";

    private string AddressV6(int host) => $"fd00:251:{_subnet:x}::{host:x}";

    private string Address(int host) => $"10.251.{_subnet}.{host}";

    /// <summary>The host's end of the link to the outside namespace, and the namespace's end.</summary>
    private string HostSide => $"192.168.{_subnet}.1";

    private string OutsideSide => $"192.168.{_subnet}.2";

    /// <summary>A second address of the host on that link, a namespace's SNAT address.</summary>
    private string SnatSide => $"192.168.{_subnet}.5";

    public async Task InitializeAsync() => _registry = await RegistryServer.StartAsync();

    public async Task DisposeAsync()
    {
        foreach (var daemon in _daemons)
        {
            daemon.Dispose();
        }

        foreach (var server in _servers)
        {
            if (!server.HasExited)
            {
                _ = Tmds.Linux.LibC.kill(server.Id, Tmds.Linux.LibC.SIGKILL);
                await server.WaitForExitAsync();
            }

            server.Dispose();
        }

        await PodVms.RemoveAllAsync(_dir);
        var instanceFile = Path.Combine(_dir.Root, "instance-id");
        var instance = File.Exists(instanceFile) ? (await File.ReadAllTextAsync(instanceFile)).Trim() : null;
        for (var vlan = _firstVlan; vlan < _firstVlan + 10; vlan++)
        {
            await _ovs.RemoveGatewayPortAsync(Bridge, vlan, CancellationToken.None);
            if (instance is not null)
            {
                await new NftEgress(instance).RemoveSegmentAsync(vlan, CancellationToken.None);
            }
        }

        if (instance is not null)
        {
            var hostPorts = new NftHostPorts(instance);
            foreach (var owner in await hostPorts.OwnersAsync(CancellationToken.None))
            {
                await hostPorts.RemoveAsync(owner, CancellationToken.None);
            }
        }

        await _ovs.DeleteBridgeAsync(Bridge, CancellationToken.None);
        if (_outside is not null)
        {
            await HostCommand.RunAsync("ip", ["netns", "delete", _outside], CancellationToken.None); // its veth pair goes with it
        }

        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task Pods_reach_their_segment_the_host_and_other_segments_but_not_an_isolated_one_egress_is_snated_and_nothing_is_left_behind()
    {
        await CreateOutsideAsync();
        var environment = Environment();
        environment["SPHERELET__NETWORK__PODCIDR"] = PodCidr;
        environment["SPHERELET__NETWORK__MTU"] = "1400";
        environment["SPHERELET__NETWORK__NAMESPACES__team-iso__ISOLATED"] = "true";
        environment["SPHERELET__NETWORK__NAMESPACES__team-other__SNATADDRESS"] = SnatSide;
        var (daemon, client) = await StartDaemonAsync(environment);
        var instance = (await File.ReadAllTextAsync(Path.Combine(_dir.Root, "instance-id"))).Trim();

        var hostPort = 20000 + System.Security.Cryptography.RandomNumberGenerator.GetInt32(10000);
        PodSandboxConfig WebPod(string name)
        {
            var config = SandboxDaemon.Pod(name, "team-net");
            config.PortMappings.Add(new PortMapping { Protocol = Protocol.Tcp, ContainerPort = 8080, HostPort = hostPort });
            return config;
        }

        var a = await PodAsync(client, WebPod("net-a"));
        var b = await PodAsync(client, SandboxDaemon.Pod("net-b", "team-net"));
        var c = await PodAsync(client, SandboxDaemon.Pod("net-c", "team-other"));
        var d = await PodAsync(client, SandboxDaemon.Pod("net-d", "team-iso"));
        var portA = "sphp" + a.Pod[..11];

        // Addresses: a segment per namespace (its own VLAN, the next /26 of the pod CIDR, its first address the gateway).
        Assert.Equal((Address(2), Address(3), Address(66), Address(130)), (a.Ip, b.Ip, c.Ip, d.Ip));
        Assert.Equal(_firstVlan.ToString(CultureInfo.InvariantCulture), (await Vsctl("get", "port", portA, "tag")).Trim());
        Assert.Equal((_firstVlan + 1).ToString(CultureInfo.InvariantCulture), (await Vsctl("get", "port", "sphp" + c.Pod[..11], "tag")).Trim());
        Assert.Equal("net-a", (await Vsctl("get", "port", portA, "external_ids:spherelet-pod")).Trim().Trim('"'));
        Assert.Equal(a.Ip, (await Vsctl("get", "port", portA, "external_ids:spherelet-ip")).Trim().Trim('"'));
        Assert.Equal("1400\n", (await ExecAsync(client, a.Container, "cat", "/sys/class/net/eth0/mtu")).Stdout);

        // The same segment is switched; the gateway answers; another segment is routed by the host.
        Assert.Equal(0, await PingAsync(client, a.Container, b.Ip));
        Assert.Equal(0, await PingAsync(client, b.Container, Address(1)));
        Assert.Equal(0, await PingAsync(client, a.Container, c.Ip));

        // The isolated namespace neither reaches nor is reached by other segments, but reaches its gateway.
        Assert.NotEqual(0, await PingAsync(client, a.Container, d.Ip, expectFailure: true));
        Assert.NotEqual(0, await PingAsync(client, d.Container, a.Ip, expectFailure: true));
        Assert.Equal(0, await PingAsync(client, d.Container, Address(129)));

        // A root tenant forging its source (another pod's address, a MAC not its own, an ARP claim
        // for another's address) gets nothing past its port: each forged frame hits the port's drop
        // flow, and the pod's own traffic still goes.
        var forger = await PrivilegedAsync(client, b.Pod, SandboxDaemon.Pod("net-b", "team-net"));
        var mac = (await ExecAsync(client, forger, "cat", "/sys/class/net/eth0/address")).Stdout.Trim();
        var portB = "sphp" + b.Pod[..11];
        var droppedBefore = await DroppedAsync(portB);
        var forged = await ExecAsync(
            client,
            forger,
            "/bin/busybox",
            "sh",
            "-c",
            string.Join(
                "; ",
                $"/bin/busybox ip address add {c.Ip}/32 dev eth0",
                $"/bin/busybox ping -c 2 -W 2 -I {c.Ip} {Address(1)} && echo forged-ip-answered",
                $"/bin/busybox ip address del {c.Ip}/32 dev eth0",
                $"/bin/busybox arping -c 2 -w 2 -U -s {c.Ip} -I eth0 {Address(1)} >/dev/null",
                "/bin/busybox ip neigh flush dev eth0",
                "/bin/busybox ip link set dev eth0 address 52:54:00:de:ad:01",
                $"/bin/busybox ping -c 2 -W 2 {Address(1)} && echo forged-mac-answered",
                $"/bin/busybox ip link set dev eth0 address {mac}",
                "echo done"));
        Assert.EndsWith("done\n", forged.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("answered", forged.Stdout, StringComparison.Ordinal);
        Assert.True(await DroppedAsync(portB) >= droppedBefore + 4, $"the forged frames were dropped at {portB}: {droppedBefore} before, {await DroppedAsync(portB)} after");
        Assert.Equal(0, await PingAsync(client, b.Container, a.Ip));
        Assert.Equal(0, await PingAsync(client, b.Container, Address(1)));

        // A server on the host is reached through each pod's gateway, the isolated pod's too.
        var hostServerPort = 30000 + System.Security.Cryptography.RandomNumberGenerator.GetInt32(10000);
        StartHttpServer(null, $"0.0.0.0:{hostServerPort}");
        Assert.Contains(ContainerTestImage.WebPage.Trim(), await WgetAsync(client, a.Container, $"http://{Address(1)}:{hostServerPort}/"), StringComparison.Ordinal);
        Assert.Contains(ContainerTestImage.WebPage.Trim(), await WgetAsync(client, d.Container, $"http://{Address(129)}:{hostServerPort}/"), StringComparison.Ordinal);

        // Egress beyond the pod CIDR is SNATed: to the host's address on the way out by default, to the namespace's SNAT address where configured.
        var outside = StartHttpServer(_outside, $"{OutsideSide}:8080");
        Assert.Contains(ContainerTestImage.WebPage.Trim(), await WgetAsync(client, a.Container, $"http://{OutsideSide}:8080/"), StringComparison.Ordinal);
        Assert.Contains(ContainerTestImage.WebPage.Trim(), await WgetAsync(client, c.Container, $"http://{OutsideSide}:8080/"), StringComparison.Ordinal);
        var clients = await ClientsSeenAsync(outside, 2);
        Assert.Equal([HostSide, SnatSide], clients);

        // The host port reaches the pod's server from the host; the rule names this agent's instance and the pod.
        Assert.Contains($"spherelet:{instance}:{a.Pod}", await NftTableAsync(), StringComparison.Ordinal);
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) })
        {
            var page = await http.GetStringAsync(new Uri($"http://{Address(1)}:{hostPort}/"));
            Assert.Contains(ContainerTestImage.WebPage.Trim(), page, StringComparison.Ordinal);

            // ...and on the host's loopback, as the kubelet's and critest's clients use it (masqueraded
            // to the gateway, routed with route_localnet behind the guard that keeps pods off the host's loopback).
            var local = await http.GetStringAsync(new Uri($"http://127.0.0.1:{hostPort}/"));
            Assert.Contains(ContainerTestImage.WebPage.Trim(), local, StringComparison.Ordinal);
            Assert.Equal("1", (await File.ReadAllTextAsync($"/proc/sys/net/ipv4/conf/{OvsSwitch.GatewayPortName(_firstVlan)}/route_localnet")).Trim());
            Assert.Contains("iifname \"sph-gw*\" ip daddr 127.0.0.0/8 drop", await HostCommand.RunAsync("nft", ["list", "chain", "ip", NftTable.Name, NftTable.GuardChain], CancellationToken.None), StringComparison.Ordinal);
        }

        // Another pod asking for the same host port is refused before its VM boots, and leaves nothing.
        var taken = await Assert.ThrowsAsync<RpcException>(() => client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = WebPod("net-e") }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, taken.StatusCode);
        Assert.Contains($"tcp/{hostPort} is taken by pod sandbox {a.Pod}", taken.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(4, (await client.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items.Count);
        Assert.Contains(await DumpFlowsAsync(), f => f.Contains("actions=drop", StringComparison.Ordinal));

        foreach (var pod in new[] { a, b, c, d })
        {
            await client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.Pod });
        }

        // Nothing of the pods is left: no port on the switch (pods' or gateways'), no flow but the
        // bridge's own, no rule of this agent in nftables.
        Assert.Equal(string.Empty, (await Vsctl("list-ports", Bridge)).Trim());
        var links = await HostCommand.RunAsync("ip", ["-o", "link", "show"], CancellationToken.None);
        Assert.All(Enumerable.Range(_firstVlan, 3), vlan => Assert.DoesNotContain($" {OvsSwitch.GatewayPortName(vlan)}:", links, StringComparison.Ordinal));
        Assert.Equal(["priority=0 actions=resubmit(,1)", "priority=0 actions=NORMAL"], (await DumpFlowsAsync()).Select(WithoutCounters));
        Assert.DoesNotContain(instance, await NftTableAsync(), StringComparison.Ordinal);
        client.Dispose();
        Assert.Equal(0, await daemon.StopAsync());
    }

    [Fact]
    public async Task After_an_agent_restart_dual_stack_allocations_are_unchanged_new_pods_get_new_addresses_leftovers_are_removed_and_lost_flows_and_rules_come_back()
    {
        var environment = Environment();
        environment["SPHERELET__NETWORK__NAMESPACES__team-iso__ISOLATED"] = "true";
        environment["SPHERELET__NETWORK__REPAIRINTERVALSECONDS"] = "1";
        var metricsPort = Metrics.PrometheusText.FreePort();
        environment["SPHERELET__METRICS__PORT"] = metricsPort.ToString(CultureInfo.InvariantCulture);
        var (daemon, client) = await StartDaemonAsync(environment);
        await client.Runtime.UpdateRuntimeConfigAsync(new UpdateRuntimeConfigRequest
        {
            RuntimeConfig = new Runtime.V1.RuntimeConfig { NetworkConfig = new NetworkConfig { PodCidr = $"{PodCidr},{PodCidrV6}" } },
        });
        var instance = (await File.ReadAllTextAsync(Path.Combine(_dir.Root, "instance-id"))).Trim();
        Assert.True(Assert.Single(await NetworkReadyAsync(client)).Status);

        // One pod that outlives the agent's kill runs on libvirt, the others on the default handler's
        // backend (microvm, but for scripts/test's libvirt pass): both backends' NICs on one segment.
        var first = await PodAsync(client, SandboxDaemon.Pod("keep", "team-iso"), "libvirt");
        var firstStatus = (await client.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = first.Pod })).Status;
        var gone = await PodAsync(client, SandboxDaemon.Pod("gone", "team-iso"));
        await client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = gone.Pod });
        var second = await PodAsync(client, SandboxDaemon.Pod("keep2", "team-iso"));
        var allocations = Path.Combine(_dir.Root, "network", "allocations.json");
        var before = await File.ReadAllTextAsync(allocations);
        var flowsBefore = (await DumpFlowsAsync()).Select(WithoutCounters).Order().ToList();

        // Leftovers a crashed agent could leave: a pod port no pod owns, the flows and the egress
        // rule of a segment that no longer exists.
        client.Dispose();
        daemon.Kill();
        const int LeftoverVlan = 4000;
        var leftoverPort = "sphp" + _tag + "00000";
        await Vsctl("add-port", Bridge, leftoverPort, "--", "set", "interface", leftoverPort, "type=internal", "--", "set", "port", leftoverPort, "external_ids:spherelet-role=pod");
        var isolation = new OvsIsolation("/run/openvswitch", instance);
        await isolation.IsolateAsync(Bridge, LeftoverVlan, System.Net.IPNetwork.Parse($"10.251.{_subnet}.192/26"), System.Net.IPNetwork.Parse(PodCidr), CancellationToken.None);
        await new NftEgress(instance).EnsureSegmentAsync(LeftoverVlan, System.Net.IPNetwork.Parse($"10.251.{_subnet}.192/26"), System.Net.IPNetwork.Parse(PodCidr), null, CancellationToken.None);

        (daemon, client) = await StartDaemonAsync(environment);
        var afterRestart = await File.ReadAllTextAsync(allocations);
        var status = await client.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = first.Pod });
        var next = await PodAsync(client, SandboxDaemon.Pod("next", "team-iso"));
        // The flows as they were before the restart, but for the new pod's port security.
        var nextMac = (await ExecAsync(client, next.Container, "cat", "/sys/class/net/eth0/address")).Stdout.Trim();
        var nextCookie = $"cookie=0x{new OvsPortSecurity("/run/openvswitch", instance).Cookie(nextMac):x},";
        async Task<List<string>> FlowsButNextsAsync() =>
            (await DumpFlowsAsync()).Where(f => !f.Contains(nextCookie, StringComparison.Ordinal)).Select(WithoutCounters).Order().ToList();

        Assert.Equal(PodSandboxState.SandboxReady, status.Status.State);
        Assert.Equal(PodSandboxState.SandboxReady, (await client.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = second.Pod })).Status.State);
        Assert.Equal(first.Ip, status.Status.Network.Ip);
        Assert.Equal(Address(2), first.Ip);
        Assert.Equal(Address(3), gone.Ip);
        Assert.Equal(Address(4), second.Ip); // not the released .3: an address comes back only after the rest of the subnet
        Assert.Equal(Address(5), next.Ip);
        Assert.Equal(0, await PingAsync(client, next.Container, first.Ip));
        Assert.Equal(0, await PingAsync(client, second.Container, first.Ip));

        // Dual-stack: each pod also has the same host number in its segment's IPv6 subnet, reported as an additional IP.
        var nextStatus = (await client.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = next.Pod })).Status;
        Assert.Equal([AddressV6(2)], firstStatus.Network.AdditionalIps.Select(i => i.Ip));
        Assert.Equal([AddressV6(2)], status.Status.Network.AdditionalIps.Select(i => i.Ip));
        Assert.Equal([AddressV6(5)], nextStatus.Network.AdditionalIps.Select(i => i.Ip));
        Assert.Equal(0, (await ExecAsync(client, next.Container, "/bin/busybox", "ping6", "-c", "2", "-W", "10", AddressV6(2))).ExitCode);
        Assert.Equal(0, (await ExecAsync(client, next.Container, "/bin/busybox", "ping6", "-c", "2", "-W", "10", AddressV6(1))).ExitCode);
        Assert.Contains($"spherelet:{instance}:segment-{_firstVlan}", await HostCommand.RunAsync("nft", ["list", "table", "ip6", NftTable.Name], CancellationToken.None), StringComparison.Ordinal);
        Assert.Equal(before, afterRestart);
        Assert.Contains(first.Ip, before, StringComparison.Ordinal);
        Assert.DoesNotContain(leftoverPort, await Vsctl("list-ports", Bridge), StringComparison.Ordinal);
        Assert.Equal(flowsBefore, await FlowsButNextsAsync());
        Assert.Equal(OvsPortSecurity.FlowsFor(dualStack: true), (await DumpFlowsAsync()).Count(f => f.Contains(nextCookie, StringComparison.Ordinal)));
        Assert.DoesNotContain($"spherelet:{instance}:segment-{LeftoverVlan}", await NftTableAsync(), StringComparison.Ordinal);
        Assert.Contains($"spherelet:{instance}:segment-{_firstVlan}", await NftTableAsync(), StringComparison.Ordinal);

        // What an ovs-vswitchd restart, a firewall reload or a hand on the switch takes away (the
        // segment's isolation flows, a pod's port security flows, its gateway's addresses, its egress rules, a pod's port) is put
        // back by the periodic repair (a pod's port once it was seen missing twice in a row).
        var gateway = OvsSwitch.GatewayPortName(_firstVlan);
        var firstMac = (await ExecAsync(client, first.Container, "cat", "/sys/class/net/eth0/address")).Stdout.Trim();
        await isolation.OpenAsync(Bridge, _firstVlan, CancellationToken.None);
        var opened = System.Diagnostics.Stopwatch.StartNew();
        await new OvsPortSecurity("/run/openvswitch", instance).ReleaseAsync(Bridge, firstMac, CancellationToken.None);
        await HostCommand.RunAsync("ip", ["address", "flush", "dev", gateway], CancellationToken.None);
        await new NftEgress(instance).RemoveSegmentAsync(_firstVlan, CancellationToken.None);
        var nextPort = "sphp" + next.Pod[..11];
        await Vsctl("del-port", Bridge, nextPort);
        // The isolation's drop flows are gone: any there now was put back by the repair (running every second) since.
        var sinceOpen = opened.Elapsed.TotalSeconds;
        Assert.DoesNotContain(await DumpFlowsAsync(), f => f.Contains("table=1,", StringComparison.Ordinal) && f.Contains("actions=drop", StringComparison.Ordinal) && FlowAgeSeconds(f) > sinceOpen);
        var repaired = await RepairedAsync(
            async () => (await FlowsButNextsAsync()).SequenceEqual(flowsBefore)
                && (await DumpFlowsAsync()).Count(f => f.Contains(nextCookie, StringComparison.Ordinal)) == OvsPortSecurity.FlowsFor(dualStack: true)
                && (await HostCommand.RunAsync("ip", ["-o", "address", "show", "dev", gateway], CancellationToken.None)).Contains($" {AddressV6(1)}/", StringComparison.Ordinal)
                && (await NftTableAsync()).Contains($"spherelet:{instance}:segment-{_firstVlan}", StringComparison.Ordinal)
                && (await HostCommand.RunAsync("nft", ["list", "table", "ip6", NftTable.Name], CancellationToken.None)).Contains($"spherelet:{instance}:segment-{_firstVlan}", StringComparison.Ordinal)
                && (await Vsctl("list-ports", Bridge)).Split('\n').Contains(nextPort),
            TimeSpan.FromSeconds(60));
        Assert.True(repaired, "the flows, the gateway's addresses, the egress rules and the pod's port came back within a minute");

        // The restarted agent's metrics: the leftovers its recovery removed, the drift its repair
        // found and put back, and the network phase of the pod started since.
        var samples = await Metrics.PrometheusText.ScrapeAsync(metricsPort);
        Assert.True(samples.Value("spherelet_recovery_leftovers_removed_total", ("kind", "switch_port")) >= 1);
        Assert.True(samples.Value("spherelet_recovery_leftovers_removed_total", ("kind", "segment")) >= 1);
        Assert.Equal(0, samples.Value("spherelet_recovery_leftovers_removed_total", ("kind", "vm")));
        Assert.True(samples.Value("spherelet_network_drift_found_total", ("scope", "segment")) >= 1);
        Assert.True(samples.Value("spherelet_network_drift_repaired_total", ("scope", "segment")) >= 1);
        Assert.True(samples.Value("spherelet_network_drift_found_total", ("scope", "pod_port")) >= 1);
        Assert.True(samples.Value("spherelet_network_drift_repaired_total", ("scope", "pod_port")) >= 1);
        Assert.True(samples.Value("spherelet_pod_start_phase_duration_seconds_count", ("phase", "network_attach")) >= 1);
        Assert.Equal(_firstVlan.ToString(CultureInfo.InvariantCulture), (await Vsctl("get", "port", nextPort, "tag")).Trim());
        Assert.Equal(0, await PingAsync(client, next.Container, first.Ip));
        Assert.Contains($"inet {Address(1)}/26", await HostCommand.RunAsync("ip", ["-o", "address", "show", "dev", gateway], CancellationToken.None), StringComparison.Ordinal);
        Assert.Equal(0, await PingAsync(client, next.Container, Address(1)));
        Assert.Equal(0, (await ExecAsync(client, next.Container, "/bin/busybox", "ping6", "-c", "2", "-W", "10", AddressV6(1))).ExitCode);

        // NetworkReady follows the bridge: deleted under the agent, it is false and says why.
        foreach (var pod in new[] { first, second, next })
        {
            await client.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = pod.Pod });
        }

        Assert.DoesNotContain(instance, await HostCommand.RunAsync("nft", ["list", "table", "ip6", NftTable.Name], CancellationToken.None), StringComparison.Ordinal);
        Assert.DoesNotContain(await DumpFlowsAsync(), f => f.Contains("actions=drop", StringComparison.Ordinal));
        // No pod port on the switch and no tap on the host is left, of either backend.
        Assert.DoesNotContain("sphp", await Vsctl("list-ports", Bridge), StringComparison.Ordinal);
        var links = await HostCommand.RunAsync("ip", ["-o", "link", "show"], CancellationToken.None);
        Assert.All(new[] { first.Pod, gone.Pod, second.Pod, next.Pod }, id => Assert.DoesNotContain("sphp" + id[..11], links, StringComparison.Ordinal));
        await _ovs.DeleteBridgeAsync(Bridge, CancellationToken.None);
        var notReady = Assert.Single(await NetworkReadyAsync(client));
        Assert.False(notReady.Status);
        Assert.Equal("BridgeNotReady", notReady.Reason);
        Assert.Contains($"the integration bridge {Bridge} does not exist", notReady.Message, StringComparison.Ordinal);
        client.Dispose();
        Assert.Equal(0, await daemon.StopAsync());
    }

    /// <summary>How long ago a flow of ovs-ofctl dump-flows was added (its <c>duration=</c>, in seconds).</summary>
    private static double FlowAgeSeconds(string flow)
    {
        var start = flow.IndexOf("duration=", StringComparison.Ordinal) + "duration=".Length;
        var end = flow.IndexOf('s', start);
        return double.Parse(flow[start..end], CultureInfo.InvariantCulture);
    }

    private Dictionary<string, string> Environment()
    {
        var environment = SandboxDaemon.Environment();
        environment["SPHERELET__OVS__BRIDGE"] = Bridge;
        environment["SPHERELET__OVS__FIRSTVLAN"] = _firstVlan.ToString(CultureInfo.InvariantCulture);
        environment["SPHERELET__OVS__LASTVLAN"] = (_firstVlan + 9).ToString(CultureInfo.InvariantCulture);
        return environment;
    }

    private async Task<(DaemonProcess Daemon, CriClient Client)> StartDaemonAsync(Dictionary<string, string> environment)
    {
        var daemon = DaemonProcess.Start(_dir, environment);
        _daemons.Add(daemon);
        var client = await daemon.ConnectAsync();
        await SandboxDaemon.ListWhenRecoveredAsync(client, Recovery);
        if (_image.Length == 0)
        {
            var imageId = await ContainerTestImage.PushAsync(_registry!);
            _image = $"{_registry!.Host}/{ContainerTestImage.Repository}:{ContainerTestImage.Tag}";
            Assert.Equal(imageId, (await client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = _image } })).ImageRef);
        }

        return (daemon, client);
    }

    /// <summary>A pod with an idle container and a web server on port 8080, and its address.</summary>
    /// <summary>A pod of <paramref name="runtimeHandler"/> (empty: the default one) with an idle container and a web server.</summary>
    private async Task<(string Pod, string Container, string Ip)> PodAsync(CriClient client, PodSandboxConfig config, string runtimeHandler = "")
    {
        var pod = (await client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = config, RuntimeHandler = runtimeHandler })).PodSandboxId;
        var ids = new List<string>();
        foreach (var (container, command) in new[] { ("idle", new[] { "sleep", "1000" }), ("web", new[] { "httpd", "-f", "-p", "8080", "-h", "/www" }) })
        {
            var id = (await client.Runtime.CreateContainerAsync(new CreateContainerRequest
            {
                PodSandboxId = pod,
                Config = new ContainerConfig { Metadata = new ContainerMetadata { Name = container }, Image = new ImageSpec { Image = _image }, Command = { command } },
                SandboxConfig = config,
            })).ContainerId;
            await client.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });
            ids.Add(id);
        }

        var status = await client.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = pod });
        return (pod, ids[0], status.Status.Network.Ip);
    }

    private static async Task<(int ExitCode, string Stdout)> ExecAsync(CriClient client, string container, params string[] command)
    {
        var response = await client.Runtime.ExecSyncAsync(new ExecSyncRequest { ContainerId = container, Cmd = { command }, Timeout = 60 });
        return (response.ExitCode, response.Stdout.ToStringUtf8());
    }

    /// <summary>Two echo requests; a ping expected to fail waits 3 s for an answer instead of 10.</summary>
    private static async Task<int> PingAsync(CriClient client, string container, string address, bool expectFailure = false) =>
        (await ExecAsync(client, container, "/bin/busybox", "ping", "-c", "2", "-W", expectFailure ? "3" : "10", address)).ExitCode;

    /// <summary>Fetches a page in the pod (no -T: Debian's busybox 1.35 wget crashes with it; ExecSync's timeout bounds it).</summary>
    private static async Task<string> WgetAsync(CriClient client, string container, string url)
    {
        var (exitCode, stdout) = await ExecAsync(client, container, "/bin/busybox", "wget", "-q", "-O", "-", url);
        Assert.True(exitCode == 0, $"wget {url} exited {exitCode}");
        return stdout;
    }

    /// <summary>The outside world: a network namespace behind a veth pair, the host's end holding two addresses.</summary>
    private async Task CreateOutsideAsync()
    {
        _outside = "sphout" + _tag;
        await HostCommand.RunAsync("ip", ["netns", "add", _outside], CancellationToken.None);
        var hostEnd = "sphvh" + _tag;
        var outsideEnd = "sphvo" + _tag;
        await HostCommand.RunAsync("ip", ["link", "add", hostEnd, "type", "veth", "peer", "name", outsideEnd, "netns", _outside], CancellationToken.None);
        await HostCommand.RunAsync("ip", ["address", "add", HostSide + "/24", "dev", hostEnd], CancellationToken.None);
        await HostCommand.RunAsync("ip", ["address", "add", SnatSide + "/24", "dev", hostEnd], CancellationToken.None);
        await HostCommand.RunAsync("ip", ["link", "set", hostEnd, "up"], CancellationToken.None);
        await HostCommand.RunAsync("ip", ["-n", _outside, "address", "add", OutsideSide + "/24", "dev", outsideEnd], CancellationToken.None);
        await HostCommand.RunAsync("ip", ["-n", _outside, "link", "set", outsideEnd, "up"], CancellationToken.None);
        await HostCommand.RunAsync("ip", ["-n", _outside, "link", "set", "lo", "up"], CancellationToken.None);
    }

    /// <summary>busybox httpd serving the test page, on the host or in a network namespace; it logs each client's address.</summary>
    private Process StartHttpServer(string? netns, string listen)
    {
        var www = Path.Combine(_dir.Path, "www");
        Directory.CreateDirectory(www);
        File.WriteAllText(Path.Combine(www, "index.html"), ContainerTestImage.WebPage);
        var start = new ProcessStartInfo(netns is null ? "busybox" : "ip") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (netns is null ? Array.Empty<string>() : ["netns", "exec", netns, "busybox"]).Concat(["httpd", "-f", "-v", "-p", listen, "-h", www]))
        {
            start.ArgumentList.Add(argument);
        }

        var server = Process.Start(start)!;
        _servers.Add(server);
        Thread.Sleep(300); // listening
        return server;
    }

    /// <summary>The client addresses the server logged for its first <paramref name="count"/> requests, in order.</summary>
    private static async Task<List<string>> ClientsSeenAsync(Process server, int count)
    {
        var clients = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (clients.Count < count && await server.StandardError.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.Contains("response:", StringComparison.Ordinal))
            {
                clients.Add(line[..line.IndexOf(':', StringComparison.Ordinal)]);
            }
        }

        return clients;
    }

    /// <summary>Polls the condition until it holds or the time is up.</summary>
    private static async Task<bool> RepairedAsync(Func<Task<bool>> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(500);
        }

        return await condition();
    }

    private static async Task<List<RuntimeCondition>> NetworkReadyAsync(CriClient client) =>
        (await client.Runtime.StatusAsync(new StatusRequest())).Status.Conditions.Where(c => c.Type == "NetworkReady").ToList();

    private async Task<List<string>> DumpFlowsAsync() =>
        (await HostCommand.RunAsync("ovs-ofctl", ["dump-flows", $"unix:/run/openvswitch/{Bridge}.mgmt"], CancellationToken.None))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith("NXST_FLOW", StringComparison.Ordinal))
            .ToList();

    /// <summary>A flow without its counters and age: cookie, priority, match and actions (a port's OpenFlow number, which a re-plugged port may change, as "N").</summary>
    private static string WithoutCounters(string flow) =>
        InPort().Replace(
            string.Join(", ", flow.Split(", ").Where(f => !f.StartsWith("duration=", StringComparison.Ordinal) && !f.StartsWith("n_", StringComparison.Ordinal) && !f.StartsWith("idle_age=", StringComparison.Ordinal) && !f.StartsWith("table=", StringComparison.Ordinal))).Replace("cookie=0x0, ", string.Empty, StringComparison.Ordinal),
            "in_port=N");

    [System.Text.RegularExpressions.GeneratedRegex("in_port=[0-9]+")]
    private static partial System.Text.RegularExpressions.Regex InPort();

    /// <summary>How many frames the port's port security drop flow has dropped.</summary>
    private async Task<long> DroppedAsync(string port)
    {
        var ofport = (await Vsctl("get", "interface", port, "ofport")).Trim();
        var flows = await HostCommand.RunAsync("ovs-ofctl", ["--no-names", "dump-flows", $"unix:/run/openvswitch/{Bridge}.mgmt", $"table=0,in_port={ofport}"], CancellationToken.None);
        var drop = flows.Split('\n').Single(l => l.Contains("priority=290", StringComparison.Ordinal));
        return long.Parse(drop.Split("n_packets=")[1].Split(',')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>A privileged container (root with every capability) in the pod, idle.</summary>
    private async Task<string> PrivilegedAsync(CriClient client, string pod, PodSandboxConfig config)
    {
        var id = (await client.Runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = pod,
            Config = new ContainerConfig
            {
                Metadata = new ContainerMetadata { Name = "forger" },
                Image = new ImageSpec { Image = _image },
                Command = { "sleep", "1000" },
                Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext { Privileged = true } },
            },
            SandboxConfig = config,
        })).ContainerId;
        await client.Runtime.StartContainerAsync(new StartContainerRequest { ContainerId = id });
        return id;
    }

    private static Task<string> NftTableAsync() =>
        HostCommand.RunAsync("nft", ["list", "table", "ip", NftTable.Name], CancellationToken.None);

    private static Task<string> Vsctl(params string[] arguments) =>
        HostCommand.RunAsync("ovs-vsctl", ["--db=unix:/run/openvswitch/db.sock", .. arguments], CancellationToken.None);
}
