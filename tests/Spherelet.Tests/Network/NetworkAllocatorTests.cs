using System.Net;
using Spherelet.Agent.Network;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Network;

namespace Spherelet.Tests.Network;

/// <summary>Segments, pod addresses and MACs: carved from the pod CIDR, never shared, saved with every change and kept across restarts.</summary>
public sealed class NetworkAllocatorTests : IDisposable
{
    private static readonly IPNetwork PodCidr = IPNetwork.Parse("10.244.1.0/24");
    private readonly string _root = Directory.CreateTempSubdirectory("sph-net-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private NetworkAllocator NewAllocator(int prefix = 26) =>
        new(new FileNetworkAllocationStore(_root), new NetworkAllocatorOptions { SegmentPrefixLength = prefix, FirstVlan = 100, LastVlan = 102 });

    [Fact]
    public async Task Each_namespace_gets_its_own_vlan_and_subnet_with_the_gateway_at_the_first_address()
    {
        using var allocator = NewAllocator();

        var (webLease, web) = await allocator.LeaseAsync("pod-1", "web", PodCidr, null, CancellationToken.None);
        var (dbLease, db) = await allocator.LeaseAsync("pod-2", "db", PodCidr, null, CancellationToken.None);
        var (_, webAgain) = await allocator.LeaseAsync("pod-3", "web", PodCidr, null, CancellationToken.None);

        Assert.Equal((100, "10.244.1.0/26", "10.244.1.1"), (web.Vlan, web.Subnet.ToString(), web.Gateway.ToString()));
        Assert.Equal((101, "10.244.1.64/26", "10.244.1.65"), (db.Vlan, db.Subnet.ToString(), db.Gateway.ToString()));
        Assert.Equal((web.Vlan, web.Subnet), (webAgain.Vlan, webAgain.Subnet));
        Assert.Equal("10.244.1.2", webLease.Address.ToString());
        Assert.Equal("10.244.1.66", dbLease.Address.ToString());
        Assert.Equal("02:53:50:00:00:01", webLease.Mac);
        Assert.Equal("02:53:50:00:00:02", dbLease.Mac);
    }

    [Fact]
    public async Task Leasing_again_for_the_same_pod_returns_its_lease()
    {
        using var allocator = NewAllocator();
        var (first, _) = await allocator.LeaseAsync("pod-1", "web", PodCidr, null, CancellationToken.None);

        var (again, _) = await allocator.LeaseAsync("pod-1", "web", PodCidr, null, CancellationToken.None);

        Assert.Equal(first, again);
        Assert.Single((await allocator.CurrentAsync(CancellationToken.None)).Leases);
    }

    [Fact]
    public async Task A_released_address_comes_back_only_after_the_rest_of_the_subnet_and_a_mac_never()
    {
        using var allocator = NewAllocator(prefix: 29); // 8 addresses: network, gateway, 5 pods, broadcast
        var leases = new List<PodLease>();
        for (var i = 0; i < 3; i++)
        {
            leases.Add((await allocator.LeaseAsync($"pod-{i}", "web", PodCidr, null, CancellationToken.None)).Lease);
        }

        await allocator.ReleaseAsync("pod-0", keepSegment: true, CancellationToken.None);
        var next = (await allocator.LeaseAsync("pod-3", "web", PodCidr, null, CancellationToken.None)).Lease;
        var after = (await allocator.LeaseAsync("pod-4", "web", PodCidr, null, CancellationToken.None)).Lease;
        var wrapped = (await allocator.LeaseAsync("pod-5", "web", PodCidr, null, CancellationToken.None)).Lease;

        Assert.Equal(["10.244.1.2", "10.244.1.3", "10.244.1.4"], leases.Select(l => l.Address.ToString()));
        Assert.Equal("10.244.1.5", next.Address.ToString());
        Assert.Equal("10.244.1.6", after.Address.ToString());
        Assert.Equal("10.244.1.2", wrapped.Address.ToString()); // pod-0's, after the rest of the subnet
        Assert.Equal("02:53:50:00:00:06", wrapped.Mac);
        var full = await Assert.ThrowsAsync<PreconditionFailedException>(() => allocator.LeaseAsync("pod-6", "web", PodCidr, null, CancellationToken.None));
        Assert.Contains("no address left", full.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Allocations_survive_a_restart_and_new_pods_get_new_addresses()
    {
        PodLease kept;
        using (var before = NewAllocator())
        {
            kept = (await before.LeaseAsync("pod-1", "web", PodCidr, null, CancellationToken.None)).Lease;
            await before.LeaseAsync("pod-2", "db", PodCidr, null, CancellationToken.None);
        }

        using var after = NewAllocator();
        var current = await after.CurrentAsync(CancellationToken.None);
        var (fresh, segment) = await after.LeaseAsync("pod-3", "web", PodCidr, null, CancellationToken.None);

        Assert.Contains(kept, current.Leases);
        Assert.Equal(2, current.Segments.Count);
        Assert.Equal(100, segment.Vlan);
        Assert.NotEqual(kept.Address, fresh.Address);
        Assert.NotEqual(kept.Mac, fresh.Mac);
        Assert.Equal("02:53:50:00:00:03", fresh.Mac);
    }

    [Fact]
    public async Task The_last_pod_of_a_namespace_takes_its_segment_along_unless_it_is_kept()
    {
        using var allocator = NewAllocator();
        await allocator.LeaseAsync("pod-1", "web", PodCidr, null, CancellationToken.None);
        await allocator.LeaseAsync("pod-2", "db", PodCidr, null, CancellationToken.None);

        var kept = await allocator.ReleaseAsync("pod-2", keepSegment: true, CancellationToken.None);
        var released = await allocator.ReleaseAsync("pod-1", keepSegment: false, CancellationToken.None);
        var unknown = await allocator.ReleaseAsync("pod-9", keepSegment: false, CancellationToken.None);

        Assert.Null(kept);
        Assert.Equal("web", released?.Namespace);
        Assert.Null(unknown);
        Assert.Equal(["db"], (await allocator.CurrentAsync(CancellationToken.None)).Segments.Select(s => s.Namespace));
    }

    [Fact]
    public async Task Without_a_pod_cidr_or_with_no_vlan_or_subnet_left_a_lease_is_refused_and_nothing_changes()
    {
        using var allocator = NewAllocator(prefix: 25); // two subnets; VLANs 100 to 102

        var noCidr = await Assert.ThrowsAsync<PreconditionFailedException>(() => allocator.LeaseAsync("pod-1", "web", null, null, CancellationToken.None));
        await allocator.LeaseAsync("pod-1", "a", PodCidr, null, CancellationToken.None);
        await allocator.LeaseAsync("pod-2", "b", PodCidr, null, CancellationToken.None);
        var noSubnet = await Assert.ThrowsAsync<PreconditionFailedException>(() => allocator.LeaseAsync("pod-3", "c", PodCidr, null, CancellationToken.None));
        var otherCidr = await Assert.ThrowsAsync<PreconditionFailedException>(() => allocator.LeaseAsync("pod-4", "a", IPNetwork.Parse("10.245.0.0/24"), null, CancellationToken.None));

        Assert.Contains("UpdateRuntimeConfig", noCidr.Message, StringComparison.Ordinal);
        Assert.Contains("no /25 subnet", noSubnet.Message, StringComparison.Ordinal);
        Assert.Contains("changed from 10.244.1.0/24 to 10.245.0.0/24", otherCidr.Message, StringComparison.Ordinal);
        Assert.Equal(2, (await allocator.CurrentAsync(CancellationToken.None)).Leases.Count);
    }

    [Fact]
    public async Task On_a_dual_stack_node_each_segment_gets_the_ipv6_subnet_at_its_place_and_each_pod_the_same_host_number_kept_across_restarts()
    {
        var podCidrV6 = IPNetwork.Parse("fd00:10:244:1::/64");
        PodLease web2;
        using (var allocator = NewAllocator())
        {
            var (web1, web) = await allocator.LeaseAsync("pod-1", "web", PodCidr, podCidrV6, CancellationToken.None);
            var (db1, db) = await allocator.LeaseAsync("pod-2", "db", PodCidr, podCidrV6, CancellationToken.None);
            web2 = (await allocator.LeaseAsync("pod-3", "web", PodCidr, podCidrV6, CancellationToken.None)).Lease;
            var changed = await Assert.ThrowsAsync<PreconditionFailedException>(() => allocator.LeaseAsync("pod-4", "web", PodCidr, null, CancellationToken.None));

            Assert.Equal((IPNetwork.Parse("fd00:10:244:1::/112"), IPAddress.Parse("fd00:10:244:1::1")), (web.SubnetV6, web.GatewayV6));
            Assert.Equal((IPNetwork.Parse("fd00:10:244:1::1:0/112"), IPAddress.Parse("fd00:10:244:1::1:1")), (db.SubnetV6, db.GatewayV6));
            Assert.Equal((IPAddress.Parse("10.244.1.2"), IPAddress.Parse("fd00:10:244:1::2")), (web1.Address, web1.AddressV6));
            Assert.Equal((IPAddress.Parse("10.244.1.66"), IPAddress.Parse("fd00:10:244:1::1:2")), (db1.Address, db1.AddressV6));
            Assert.Equal(IPAddress.Parse("fd00:10:244:1::3"), web2.AddressV6);
            Assert.Contains("IPv6 pod CIDR changed from fd00:10:244:1::/64 to none", changed.Message, StringComparison.Ordinal);
        }

        using var reloaded = NewAllocator();
        var current = await reloaded.CurrentAsync(CancellationToken.None);
        Assert.Equal(podCidrV6, current.PodCidrV6);
        Assert.Equal(web2, current.Leases.Single(l => l.SandboxId == "pod-3"));
    }

    [Fact]
    public async Task An_unreadable_allocations_file_is_an_error_and_is_left_alone()
    {
        var store = new FileNetworkAllocationStore(_root);
        Directory.CreateDirectory(Path.GetDirectoryName(store.Path)!);
        await File.WriteAllTextAsync(store.Path, "{ not json");
        using var allocator = NewAllocator();

        await Assert.ThrowsAsync<IOException>(() => allocator.LeaseAsync("pod-1", "web", PodCidr, null, CancellationToken.None));
        Assert.Equal("{ not json", await File.ReadAllTextAsync(store.Path));
    }
}
