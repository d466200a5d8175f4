using System.Net;
using Spherelet.Agent.Network;
using Spherelet.Domain.Network;
using Spherelet.Network;

namespace Spherelet.Tests.Network;

/// <summary>What the periodic repair finds wrong when the switch or the host's rules differ from the allocations.</summary>
public sealed class NetworkDriftTests
{
    private const string SandboxA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private static readonly IPNetwork PodCidr = IPNetwork.Parse("10.20.0.0/16");
    private static readonly IPNetwork PodCidrV6 = IPNetwork.Parse("fd00:20::/64");

    private static readonly NetworkSegment Open = new("team-a", 100, IPNetwork.Parse("10.20.0.0/24"), IPAddress.Parse("10.20.0.1"), 3);
    private static readonly NetworkSegment Isolated = new("secret", 101, IPNetwork.Parse("10.20.1.0/24"), IPAddress.Parse("10.20.1.1"), 2);

    private static PodNetworkSettings Settings(bool isolateSecret = true) => new(
        "br-test",
        "netdev",
        1500,
        false,
        null,
        new Dictionary<string, NamespacePolicy>(StringComparer.Ordinal) { ["secret"] = new NamespacePolicy(isolateSecret, null) });

    private static NetworkAllocations Allocations(params NetworkSegment[] segments) =>
        new(PodCidr, 24, segments, [new PodLease(SandboxA, "team-a", IPAddress.Parse("10.20.0.2"), "02:53:50:00:00:01")], 2);

    /// <summary>The host as it is right after the agent set the two segments up.</summary>
    private static SwitchObservation Healthy() => new(
        BridgeProblem: null,
        BridgePorts: new HashSet<string>(StringComparer.Ordinal) { "sph-gw100", "sph-gw101", OvsPodNetwork.PortName(SandboxA) },
        FlowCounts: new Dictionary<int, int> { [101] = OvsIsolation.FlowsPerFamily },
        EgressFamilies: new Dictionary<int, IReadOnlySet<string>> { [100] = new HashSet<string> { "ip" }, [101] = new HashSet<string> { "ip" } },
        HostAddresses: new Dictionary<string, IReadOnlySet<IPAddress>>(StringComparer.Ordinal)
        {
            ["sph-gw100"] = new HashSet<IPAddress> { IPAddress.Parse("10.20.0.1") },
            ["sph-gw101"] = new HashSet<IPAddress> { IPAddress.Parse("10.20.1.1") },
        },
        UpInterfaces: new HashSet<string>(StringComparer.Ordinal) { "sph-gw100", "sph-gw101" },
        HostInterfaces: new HashSet<string>(StringComparer.Ordinal) { OvsPodNetwork.PortName(SandboxA) },
        Ipv4Forwarding: true,
        Ipv6Forwarding: false);

    [Fact]
    public void A_host_as_the_agent_left_it_has_no_drift()
    {
        Assert.Empty(NetworkDrift.Find(Allocations(Open, Isolated), Settings(), Healthy()));
    }

    [Fact]
    public void Without_segments_nothing_is_checked()
    {
        var nothing = Healthy() with { BridgeProblem = "the integration bridge br-test does not exist", Ipv4Forwarding = false };

        Assert.Empty(NetworkDrift.Find(new NetworkAllocations(PodCidr, 24, [], [], 1), Settings(), nothing));
        Assert.Empty(NetworkDrift.Find(NetworkAllocations.Empty(24), Settings(), nothing));
    }

    [Fact]
    public void Flows_lost_by_an_ovs_vswitchd_restart_are_found_for_the_isolated_segment_only()
    {
        var restarted = Healthy() with { FlowCounts = new Dictionary<int, int>() };

        var finding = Assert.Single(NetworkDrift.Find(Allocations(Open, Isolated), Settings(), restarted));

        Assert.Equal(101, finding.Vlan);
        Assert.Null(finding.SandboxId);
        Assert.Equal("0 isolation flows instead of 3", finding.What);
    }

    [Fact]
    public void Flows_left_on_a_segment_that_is_no_longer_isolated_are_found()
    {
        var finding = Assert.Single(NetworkDrift.Find(Allocations(Open, Isolated), Settings(isolateSecret: false), Healthy()));

        Assert.Equal(101, finding.Vlan);
        Assert.Equal("3 isolation flows instead of 0", finding.What);
    }

    [Fact]
    public void A_gateway_that_lost_its_address_or_went_down_is_found()
    {
        var observed = Healthy() with
        {
            HostAddresses = new Dictionary<string, IReadOnlySet<IPAddress>>(StringComparer.Ordinal) { ["sph-gw101"] = new HashSet<IPAddress> { IPAddress.Parse("10.20.1.1") } },
            UpInterfaces = new HashSet<string>(StringComparer.Ordinal) { "sph-gw100" },
        };

        var findings = NetworkDrift.Find(Allocations(Open, Isolated), Settings(), observed);

        Assert.Equal(
            [new DriftFinding(100, null, "gateway sph-gw100 lacks 10.20.0.1"), new DriftFinding(101, null, "gateway sph-gw101 is down")],
            findings);
    }

    [Fact]
    public void A_flushed_egress_rule_and_forwarding_turned_off_are_found()
    {
        var observed = Healthy() with
        {
            EgressFamilies = new Dictionary<int, IReadOnlySet<string>> { [101] = new HashSet<string> { "ip" } },
            Ipv4Forwarding = false,
        };

        var findings = NetworkDrift.Find(Allocations(Open, Isolated), Settings(), observed);

        Assert.Equal(
            [new DriftFinding(null, null, "IPv4 forwarding is off"), new DriftFinding(100, null, "the IPv4 egress rule is missing")],
            findings);
    }

    [Fact]
    public void A_bridge_made_again_without_its_ports_is_found_and_the_pods_nic_with_it()
    {
        var observed = Healthy() with
        {
            BridgeProblem = "the integration bridge br-test does not exist",
            BridgePorts = new HashSet<string>(StringComparer.Ordinal),
            FlowCounts = new Dictionary<int, int>(),
        };

        var findings = NetworkDrift.Find(Allocations(Open), Settings(), observed);

        Assert.Equal(
            [
                new DriftFinding(null, null, "the integration bridge br-test does not exist"),
                new DriftFinding(100, null, "gateway port sph-gw100 is not on the bridge"),
                new DriftFinding(null, SandboxA, $"pod NIC {OvsPodNetwork.PortName(SandboxA)} is not on the bridge"),
            ],
            findings);
    }

    [Fact]
    public void A_pods_nic_whose_tap_is_gone_is_not_drift()
    {
        var observed = Healthy() with
        {
            BridgePorts = new HashSet<string>(StringComparer.Ordinal) { "sph-gw100", "sph-gw101" },
            HostInterfaces = new HashSet<string>(StringComparer.Ordinal),
        };

        Assert.Empty(NetworkDrift.Find(Allocations(Open, Isolated), Settings(), observed));
    }

    [Fact]
    public void Dual_stack_segments_need_both_families_of_rules_addresses_and_forwarding()
    {
        var dual = Isolated with { SubnetV6 = IPNetwork.Parse("fd00:20::1:0/112"), GatewayV6 = IPAddress.Parse("fd00:20::1:1") };
        var allocations = new NetworkAllocations(PodCidr, 24, [dual], [], 2, PodCidrV6);

        var findings = NetworkDrift.Find(allocations, Settings(), Healthy());

        Assert.Equal(
            [
                new DriftFinding(101, null, "IPv6 forwarding is off"),
                new DriftFinding(101, null, "gateway sph-gw101 lacks fd00:20::1:1"),
                new DriftFinding(101, null, "the IPv6 egress rule is missing"),
                new DriftFinding(101, null, "3 isolation flows instead of 6"),
            ],
            findings);
    }
}
