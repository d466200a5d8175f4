using System.Globalization;
using System.Security.Cryptography;
using Runtime.V1;
using Spherelet.Cri;
using Spherelet.IntegrationTests.Containers;
using Spherelet.IntegrationTests.Images;

namespace Spherelet.Benchmarks;

/// <summary>
/// The pod network through CRI (the daemon as built, real libvirt VMs on an Open vSwitch bridge
/// of the benchmark's own): ICMP round trips and TCP throughput between two pods of one
/// namespace (one segment, one VLAN) and from one of them to a pod of another namespace (routed
/// by the host between the segments' gateways), next to the same between two network namespaces
/// of the host on the same bridge (<see cref="NetnsPair"/>), measured with the same busybox
/// commands (<see cref="NetworkProbe"/>). The ratios VM / namespaces are the pod VM's cost.
/// </summary>
internal static class NetworkBenchmark
{
    private const string NamespaceA = "bench-net-a";
    private const string NamespaceB = "bench-net-b";

    /// <summary>The first timed transfer of a pod sends 2 MiB (TCG is slow), of a namespace 64 MiB; later ones are sized from it.</summary>
    private const int PodProbeBlocks = 32;

    private const int NetnsProbeBlocks = 1024;

    public static async Task RunAsync(NetworkBenchOptions options, TextWriter output)
    {
        // A bridge, VLANs and a pod CIDR of the benchmark's own: the daemon's segments take the first VLANs
        // (two namespaces), the network namespaces the last; the segment gateways are host interfaces named
        // by VLAN (sph-gwVLAN), so the range stays clear of the integration tests' (3000-3899).
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var bridge = "sphbench" + id;
        var firstVlan = 3900 + (RandomNumberGenerator.GetInt32(19) * 10);
        var netnsVlan = firstVlan + 9;
        var subnet = $"10.252.{1 + RandomNumberGenerator.GetInt32(250)}";
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["SPHERELET__OVS__BRIDGE"] = bridge,
            ["SPHERELET__OVS__FIRSTVLAN"] = Invariant(firstVlan),
            ["SPHERELET__OVS__LASTVLAN"] = Invariant(firstVlan + 8),
            ["SPHERELET__GUEST__CONNECTTIMEOUTSECONDS"] = "180",
        };

        try
        {
            await PodVmSession.RunAsync(
                options.Daemon,
                options.Kernel,
                options.Initramfs,
                "sph-bench-net-",
                environment,
                PodVmSession.PushTestImageAsync,
                runtime => runtime.UpdateRuntimeConfigAsync(new UpdateRuntimeConfigRequest
                {
                    RuntimeConfig = new RuntimeConfig { NetworkConfig = new NetworkConfig { PodCidr = $"{subnet}.0/24" } },
                }).ResponseAsync,
                async session =>
                {
                    var (runtime, spec) = (session.Runtime, session.Image);

                    // The first namespace's pods come up first, so that it gets the first segment.
                    var a = await StartPodAsync(runtime, spec, "net-a", NamespaceA);
                    var pods = await Task.WhenAll(StartPodAsync(runtime, spec, "net-b", NamespaceA), StartPodAsync(runtime, spec, "net-c", NamespaceB));
                    var (b, c) = (pods[0], pods[1]);
                    var datapath = (await HostProcess.CheckedAsync("ovs-vsctl", "get", "bridge", bridge, "datapath_type")).Trim().Trim('"');
                    var vlans = $"{await PortTagAsync(a)}/{await PortTagAsync(c)}";

                    var fromA = new PodShell(runtime, a.ContainerId);

                    var none = CancellationToken.None;
                    NetworkFigures figures;
                    await using (var netns = await NetnsPair.CreateAsync(bridge, netnsVlan, id, $"{subnet}.194", $"{subnet}.195", 26))
                    {
                        var rttSame = await NetworkProbe.PingAsync(fromA, "pod to pod, same segment", b.Ip, options.Runs, none);
                        var rttAcross = await NetworkProbe.PingAsync(fromA, "pod to pod, across segments", c.Ip, options.Runs, none);
                        var rttNetns = await NetworkProbe.PingAsync(netns.Sender, "netns to netns", netns.ReceiverAddress, options.Runs, none);
                        var tcpSame = await NetworkProbe.ThroughputAsync(fromA, "pod to pod, same segment", b.Ip, options.Transfers, PodProbeBlocks, none);
                        var tcpAcross = await NetworkProbe.ThroughputAsync(fromA, "pod to pod, across segments", c.Ip, options.Transfers, PodProbeBlocks, none);
                        var tcpNetns = await NetworkProbe.ThroughputAsync(netns.Sender, "netns to netns", netns.ReceiverAddress, options.Transfers, NetnsProbeBlocks, none);
                        var clock = await NetworkProbe.GuestClockRateAsync(fromA, none);
                        figures = new NetworkFigures(rttSame, rttAcross, rttNetns, tcpSame, tcpAcross, tcpNetns, clock);
                    }

                    foreach (var pod in new[] { a, b, c })
                    {
                        await PodCalls.RemoveAsync(runtime, pod.PodId);
                    }

                    var setup = $"bridge {bridge} ({datapath} datapath), pod CIDR {subnet}.0/24: pods {a.Ip} and {b.Ip} (namespace {NamespaceA}), {c.Ip} ({NamespaceB}), " +
                        $"VLANs {vlans}; network namespaces {subnet}.194 and {subnet}.195 on VLAN {netnsVlan} (veth, tx checksum offload off)";
                    Report(output, options, setup, figures);
                });
        }
        finally
        {
            // The daemon removes a segment's gateway port with its last pod; the bridge (and any port left on it) goes here.
            var deleted = await HostProcess.RunAsync("ovs-vsctl", ["--timeout=10", "--if-exists", "del-br", bridge], TimeSpan.FromSeconds(30), CancellationToken.None);
            if (deleted.ExitCode != 0)
            {
                await Console.Error.WriteLineAsync($"bench: bridge {bridge} not removed: {deleted.Error.Trim()}");
            }
        }
    }

    private static void Report(TextWriter output, NetworkBenchOptions options, string setup, NetworkFigures f)
    {
        var rttSame = Stats.Median(f.RttSame);
        var rttNetns = Stats.Median(f.RttNetns);
        var tcpSame = Stats.Median(f.TcpSame.Mbps);
        var tcpNetns = Stats.Median(f.TcpNetns.Mbps);
        var rttRatio = rttSame / rttNetns;
        var tcpRatio = tcpSame / tcpNetns;
        output.WriteLine(
            $"network: {options.Runs} pings (busybox ping -i 0.2, each reply's time=) and {options.Transfers} TCP transfer{(options.Transfers == 1 ? string.Empty : "s")} " +
            "(busybox dd bs=64k | nc, timed on the host, less the median empty transfer) per pair; " +
            $"{(Spherelet.Domain.Node.HostVirtualization.KvmUsable ? "KVM" : "TCG")}");
        output.WriteLine(setup);
        output.WriteLine();
        output.WriteLine("| measure                                             | median     | p90        | min        |");
        output.WriteLine("|-----------------------------------------------------|------------|------------|------------|");
        Row(output, "ICMP RTT pod -> pod, same segment (ms)", f.RttSame, "0.000");
        Row(output, "ICMP RTT pod -> pod, across segments (ms)", f.RttAcross, "0.000");
        Row(output, "ICMP RTT netns -> netns, same bridge + VLAN (ms)", f.RttNetns, "0.000");
        Row(output, "TCP pod -> pod, same segment (Mbit/s)", f.TcpSame.Mbps, "0.0");
        Row(output, "TCP pod -> pod, across segments (Mbit/s)", f.TcpAcross.Mbps, "0.0");
        Row(output, "TCP netns -> netns (Mbit/s)", f.TcpNetns.Mbps, "0.0");
        Row(output, "empty transfer, pod -> pod (exec + connect, ms)", f.TcpSame.EmptyMs, "0.0");
        Row(output, "empty transfer, netns -> netns (ms)", f.TcpNetns.EmptyMs, "0.0");
        Single(output, "bytes per timed transfer, pod / netns (MiB)", $"{Stats.F(f.TcpSame.Bytes / 1048576.0, "0")} / {Stats.F(f.TcpNetns.Bytes / 1048576.0, "0")}");
        Single(output, "guest clock: host ms per guest ms (sleep 5)", Stats.F(f.GuestClock, "0.00"));
        Single(output, "ratio RTT same segment, VM / netns", Stats.F(rttRatio, "0.00"));
        Single(output, "ratio TCP same segment, VM / netns", Stats.F(tcpRatio, "0.000"));
        output.WriteLine();
        output.WriteLine(
            $"result: rtt_same_ms={Stats.F(rttSame, "0.000")} rtt_same_p90_ms={Stats.F(Stats.Percentile(f.RttSame, 90), "0.000")} " +
            $"rtt_across_ms={Stats.F(Stats.Median(f.RttAcross), "0.000")} rtt_netns_ms={Stats.F(rttNetns, "0.000")} " +
            $"tcp_same_mbps={Stats.F(tcpSame)} tcp_across_mbps={Stats.F(Stats.Median(f.TcpAcross.Mbps))} tcp_netns_mbps={Stats.F(tcpNetns)} " +
            $"rtt_ratio={Stats.F(rttRatio, "0.00")} tcp_ratio={Stats.F(tcpRatio, "0.000")}");
    }

    private static void Row(TextWriter output, string name, IReadOnlyList<double> values, string format) =>
        output.WriteLine($"| {name,-51} | {Stats.F(Stats.Median(values), format),10} | {Stats.F(Stats.Percentile(values, 90), format),10} | {Stats.F(values.Min(), format),10} |");

    private static void Single(TextWriter output, string name, string value) =>
        output.WriteLine($"| {name,-51} | {value,10} |            |            |");

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The VLAN tag of the pod's port on the bridge (named sphp + the sandbox ID's first 11 characters).</summary>
    private static async Task<string> PortTagAsync(NetworkPod pod) =>
        (await HostProcess.CheckedAsync("ovs-vsctl", "get", "port", "sphp" + pod.PodId[..11], "tag")).Trim();

    /// <summary>A pod whose one container is the TCP receiver; the measuring commands are exec'd in it.</summary>
    private static async Task<NetworkPod> StartPodAsync(RuntimeService.RuntimeServiceClient runtime, ImageSpec image, string name, string @namespace)
    {
        var config = PodCalls.Config(name, @namespace);
        var podId = await PodCalls.RunAsync(runtime, config);
        var container = await runtime.CreateContainerAsync(new CreateContainerRequest
        {
            PodSandboxId = podId,
            Config = new ContainerConfig
            {
                Metadata = new ContainerMetadata { Name = "net", Attempt = 0 },
                Image = image,
                Command = { "/bin/sh", "-c", "exec " + NetworkProbe.ReceiverCommand },
            },
            SandboxConfig = config,
        });
        await runtime.StartContainerAsync(new StartContainerRequest { ContainerId = container.ContainerId });
        var status = await runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = podId });
        return new NetworkPod(podId, container.ContainerId, status.Status.Network.Ip);
    }
}
