using System.Net;
using Spherelet.Agent.Hosting;
using Spherelet.Agent.Options;
using Spherelet.Network;

namespace Spherelet.Tests.Network;

/// <summary>The OpenFlow rules of an isolated segment, the egress SNAT rule, and the per-namespace settings they come from.</summary>
public sealed class NetworkRulesTests
{
    private static readonly IPNetwork Subnet = IPNetwork.Parse("10.244.0.64/26");
    private static readonly IPNetwork PodCidr = IPNetwork.Parse("10.244.0.0/24");

    [Fact]
    public void An_isolated_segment_switches_inside_its_subnet_and_drops_ip_to_and_from_the_rest_of_the_pod_cidr()
    {
        var isolation = new OvsIsolation("/run/openvswitch", "00112233aabbccdd");

        var flows = isolation.Flows(101, Subnet, PodCidr);

        Assert.Equal(0x0011_2233_5350_0065UL, isolation.Cookie(101));
        Assert.Equal(
            [
                "cookie=0x11223353500065,table=1,priority=200,ip,nw_src=10.244.0.64/26,nw_dst=10.244.0.64/26,actions=NORMAL",
                "cookie=0x11223353500065,table=1,priority=190,ip,nw_src=10.244.0.64/26,nw_dst=10.244.0.0/24,actions=drop",
                "cookie=0x11223353500065,table=1,priority=190,ip,nw_src=10.244.0.0/24,nw_dst=10.244.0.64/26,actions=drop",
            ],
            flows);
    }

    [Fact]
    public void A_dual_stack_segments_ipv6_subnet_gets_the_same_rules_for_ipv6_and_its_egress_is_masqueraded_in_the_ip6_family()
    {
        var isolation = new OvsIsolation("/run/openvswitch", "00112233aabbccdd");
        var subnetV6 = IPNetwork.Parse("fd00:10:244::1:0/112");
        var podCidrV6 = IPNetwork.Parse("fd00:10:244::/64");

        Assert.Equal(
            [
                "cookie=0x11223353500065,table=1,priority=200,ipv6,ipv6_src=fd00:10:244::1:0/112,ipv6_dst=fd00:10:244::1:0/112,actions=NORMAL",
                "cookie=0x11223353500065,table=1,priority=190,ipv6,ipv6_src=fd00:10:244::1:0/112,ipv6_dst=fd00:10:244::/64,actions=drop",
                "cookie=0x11223353500065,table=1,priority=190,ipv6,ipv6_src=fd00:10:244::/64,ipv6_dst=fd00:10:244::1:0/112,actions=drop",
            ],
            isolation.Flows(101, subnetV6, podCidrV6));
        Assert.Equal(
            ["ip6", "saddr", "fd00:10:244::1:0/112", "ip6", "daddr", "!=", "fd00:10:244::/64", "masquerade", "comment", "\"spherelet:00112233aabbccdd:segment-101\""],
            new NftEgress("00112233aabbccdd").Rule(101, subnetV6, podCidrV6, null));
    }

    [Fact]
    public void A_pods_port_lets_on_only_its_own_mac_and_addresses_arp_and_neighbour_discovery_included_and_drops_the_rest()
    {
        var security = new OvsPortSecurity("/run/openvswitch", "00112233aabbccdd");

        var flows = security.Flows(7, "52:54:00:00:01:02", IPAddress.Parse("10.244.0.66"), IPAddress.Parse("fd00:10:244::1:2"));

        Assert.Equal(0x0011_2233_5000_0102UL, security.Cookie("52:54:00:00:01:02"));
        Assert.Equal(OvsPortSecurity.FlowsFor(dualStack: true), flows.Count);
        Assert.All(flows, f => Assert.StartsWith("cookie=0x11223350000102,table=0,in_port=7,priority=", f, StringComparison.Ordinal));
        Assert.Contains("cookie=0x11223350000102,table=0,in_port=7,priority=300,dl_src=52:54:00:00:01:02,ip,nw_src=10.244.0.66,actions=resubmit(,1)", flows);
        Assert.Contains("cookie=0x11223350000102,table=0,in_port=7,priority=300,dl_src=52:54:00:00:01:02,arp,arp_sha=52:54:00:00:01:02,arp_spa=10.244.0.66,actions=resubmit(,1)", flows);
        Assert.Contains("cookie=0x11223350000102,table=0,in_port=7,priority=300,dl_src=52:54:00:00:01:02,ipv6,ipv6_src=fe80::5054:ff:fe00:102,actions=resubmit(,1)", flows);
        Assert.Contains("cookie=0x11223350000102,table=0,in_port=7,priority=310,dl_src=52:54:00:00:01:02,icmp6,icmp_type=136,icmp_code=0,nd_target=fd00:10:244::1:2,actions=resubmit(,1)", flows);
        Assert.Contains("cookie=0x11223350000102,table=0,in_port=7,priority=305,icmp6,icmp_type=136,actions=drop", flows);
        Assert.Equal("cookie=0x11223350000102,table=0,in_port=7,priority=290,actions=drop", flows[^1]);
        Assert.Equal(OvsPortSecurity.FlowsFor(dualStack: false), security.Flows(7, "52:54:00:00:01:02", IPAddress.Parse("10.244.0.66"), null).Count);
    }

    [Fact]
    public void Cookies_of_two_agents_or_two_segments_differ()
    {
        var one = new OvsIsolation("/run/openvswitch", "00112233aabbccdd");
        var other = new OvsIsolation("/run/openvswitch", "ffeeddcc00112233");

        Assert.NotEqual(one.Cookie(101), other.Cookie(101));
        Assert.NotEqual(one.Cookie(101), one.Cookie(102));
    }

    [Fact]
    public void Egress_leaving_the_pod_cidr_is_masqueraded_or_snated_to_the_address_given_and_names_its_segment()
    {
        var egress = new NftEgress("00112233aabbccdd");

        Assert.Equal(
            ["ip", "saddr", "10.244.0.64/26", "ip", "daddr", "!=", "10.244.0.0/24", "masquerade", "comment", "\"spherelet:00112233aabbccdd:segment-101\""],
            egress.Rule(101, Subnet, PodCidr, null));
        Assert.Equal(
            ["ip", "saddr", "10.244.0.64/26", "ip", "daddr", "!=", "10.244.0.0/24", "snat", "to", "192.0.2.7", "comment", "\"spherelet:00112233aabbccdd:segment-101\""],
            egress.Rule(101, Subnet, PodCidr, IPAddress.Parse("192.0.2.7")));
    }

    [Fact]
    public void A_namespace_without_a_policy_is_open_and_uses_the_nodes_snat_address_and_one_with_a_policy_its_own()
    {
        var options = new SphereletOptions();
        options.Network.SnatAddress = "192.0.2.1";
        options.Network.Namespaces["secure"] = new NamespaceNetworkOptions { Isolated = true, SnatAddress = "192.0.2.9" };
        options.Network.Namespaces["quiet"] = new NamespaceNetworkOptions { Isolated = true };

        var settings = DaemonHost.PodNetworkSettingsFrom(options);

        Assert.False(settings.PolicyOf("default").Isolated);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), settings.SnatAddressOf("default"));
        Assert.True(settings.PolicyOf("secure").Isolated);
        Assert.Equal(IPAddress.Parse("192.0.2.9"), settings.SnatAddressOf("secure"));
        Assert.True(settings.PolicyOf("quiet").Isolated);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), settings.SnatAddressOf("quiet"));
        Assert.Null(DaemonHost.PodNetworkSettingsFrom(new SphereletOptions()).SnatAddressOf("default"));
    }
}
