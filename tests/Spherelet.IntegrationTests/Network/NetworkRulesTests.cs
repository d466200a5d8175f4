using System.Net;
using Spherelet.Network;

namespace Spherelet.IntegrationTests.Network;

/// <summary>
/// A segment's isolation flows on the real Open vSwitch (ovs-ofctl) and its egress rule in the
/// real nftables. Needs root, OVS (scripts/setup starts it) and nft. Each test uses a bridge and
/// an agent instance of its own and removes what it made.
/// </summary>
public sealed class NetworkRulesTests : IAsyncLifetime
{
    private static readonly IPNetwork Subnet = IPNetwork.Parse("10.249.3.64/26");
    private static readonly IPNetwork PodCidr = IPNetwork.Parse("10.249.3.0/24");
    private readonly OvsSwitch _ovs = new("/run/openvswitch/db.sock");
    private readonly string _bridge = "sphrul" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
    private readonly string _instance = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8));

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await new NftEgress(_instance).RemoveSegmentAsync(101, CancellationToken.None);
        await new NftEgress(_instance).RemoveSegmentAsync(102, CancellationToken.None);
        await _ovs.DeleteBridgeAsync(_bridge, CancellationToken.None);
    }

    [Fact]
    public async Task Isolation_flows_are_installed_once_found_by_their_cookie_and_removed_with_the_segment()
    {
        await _ovs.EnsureBridgeAsync(_bridge, "netdev", CancellationToken.None);
        var isolation = new OvsIsolation("/run/openvswitch", _instance);

        await isolation.IsolateAsync(_bridge, 101, Subnet, PodCidr, CancellationToken.None);
        await isolation.IsolateAsync(_bridge, 101, Subnet, PodCidr, CancellationToken.None);
        var flows = await DumpFlowsAsync();

        Assert.Equal(new HashSet<int> { 101 }, await isolation.IsolatedAsync(_bridge, CancellationToken.None));
        Assert.Empty(await new OvsIsolation("/run/openvswitch", "0123456789abcdef").IsolatedAsync(_bridge, CancellationToken.None));
        var cookie = $"cookie=0x{isolation.Cookie(101):x}";
        Assert.Equal(3, flows.Count(f => f.Contains(cookie, StringComparison.Ordinal)));
        Assert.Contains(flows, f => f.Contains(cookie, StringComparison.Ordinal) && f.Contains("priority=190,ip,nw_src=10.249.3.64/26,nw_dst=10.249.3.0/24 actions=drop", StringComparison.Ordinal));
        Assert.Contains(flows, f => f.Contains("priority=0 actions=NORMAL", StringComparison.Ordinal));

        await isolation.OpenAsync(_bridge, 101, CancellationToken.None);
        await isolation.OpenAsync(_bridge, 101, CancellationToken.None);
        Assert.Empty(await isolation.IsolatedAsync(_bridge, CancellationToken.None));
        Assert.DoesNotContain(await DumpFlowsAsync(), f => f.Contains(cookie, StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_egress_rule_is_made_once_replaced_when_its_snat_address_changes_and_removed()
    {
        var egress = new NftEgress(_instance);

        await egress.EnsureSegmentAsync(101, Subnet, PodCidr, null, CancellationToken.None);
        await egress.EnsureSegmentAsync(101, Subnet, PodCidr, null, CancellationToken.None);
        var masquerading = await OwnRulesAsync();
        await egress.EnsureSegmentAsync(101, Subnet, PodCidr, IPAddress.Parse("192.0.2.7"), CancellationToken.None);
        var snating = await OwnRulesAsync();

        Assert.Equal(["ip saddr 10.249.3.64/26 ip daddr != 10.249.3.0/24 masquerade"], masquerading);
        Assert.Equal(["ip saddr 10.249.3.64/26 ip daddr != 10.249.3.0/24 snat to 192.0.2.7"], snating);
        Assert.Equal(new HashSet<int> { 101 }, await egress.SegmentsAsync(CancellationToken.None));

        await egress.RemoveSegmentAsync(101, CancellationToken.None);
        Assert.Empty(await OwnRulesAsync());
        Assert.Empty(await egress.SegmentsAsync(CancellationToken.None));
    }

    private async Task<List<string>> DumpFlowsAsync() =>
        (await HostCommand.RunAsync("ovs-ofctl", ["dump-flows", $"unix:/run/openvswitch/{_bridge}.mgmt"], CancellationToken.None))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    /// <summary>This test's rules in the postrouting chain, without their comments.</summary>
    private async Task<List<string>> OwnRulesAsync() =>
        (await NftTable.ListChainAsync("postrouting", CancellationToken.None))
            .Split('\n', StringSplitOptions.TrimEntries)
            .Where(l => l.Contains($"spherelet:{_instance}:", StringComparison.Ordinal))
            .Select(l => l[..l.IndexOf(" comment", StringComparison.Ordinal)])
            .ToList();
}
