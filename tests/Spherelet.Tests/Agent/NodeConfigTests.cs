using Spherelet.Agent.Node;
using Spherelet.Agent.Options;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Node;

namespace Spherelet.Tests.Agent;

public sealed class NodeConfigTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("spherelet-node-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task Pod_cidr_is_persisted_and_read_back_by_a_new_instance()
    {
        var store = new FileNodeConfigStore(new SphereletOptions { Root = _root });
        using (var config = new NodeConfig(store))
        {
            Assert.True(await config.UpdatePodCidrAsync("10.244.3.0/24", CancellationToken.None));
            Assert.False(await config.UpdatePodCidrAsync("10.244.3.0/24", CancellationToken.None));
        }

        using var reloaded = new NodeConfig(new FileNodeConfigStore(new SphereletOptions { Root = _root }));
        Assert.Equal("10.244.3.0/24", (await reloaded.GetAsync(CancellationToken.None)).PodCidrText);
        Assert.Contains("\"version\": 1", await File.ReadAllTextAsync(store.FilePath), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_configured_pod_cidr_holds_until_the_kubelet_sends_one()
    {
        var configured = NodeNetworkConfig.ParsePodCidrs("10.88.0.0/16");
        using var config = new NodeConfig(new FileNodeConfigStore(new SphereletOptions { Root = _root }), configured);

        Assert.Equal("10.88.0.0/16", (await config.GetAsync(CancellationToken.None)).PodCidrText);
        Assert.True(await config.UpdatePodCidrAsync("10.244.3.0/24", CancellationToken.None));
        Assert.Equal("10.244.3.0/24", (await config.GetAsync(CancellationToken.None)).PodCidrText);
        using var restarted = new NodeConfig(new FileNodeConfigStore(new SphereletOptions { Root = _root }), configured);
        Assert.Equal("10.244.3.0/24", (await restarted.GetAsync(CancellationToken.None)).PodCidrText);
    }

    [Fact]
    public async Task Empty_pod_cidr_keeps_the_stored_one()
    {
        using var config = new NodeConfig(new FileNodeConfigStore(new SphereletOptions { Root = _root }));
        await config.UpdatePodCidrAsync("10.1.0.0/16", CancellationToken.None);

        Assert.False(await config.UpdatePodCidrAsync("", CancellationToken.None));
        Assert.Equal("10.1.0.0/16", (await config.GetAsync(CancellationToken.None)).PodCidrText);
    }

    [Fact]
    public async Task Invalid_pod_cidr_changes_nothing_on_disk()
    {
        var store = new FileNodeConfigStore(new SphereletOptions { Root = _root });
        using var config = new NodeConfig(store);
        await config.UpdatePodCidrAsync("10.1.0.0/16", CancellationToken.None);
        var before = await File.ReadAllBytesAsync(store.FilePath);

        await Assert.ThrowsAsync<InvalidRequestException>(() => config.UpdatePodCidrAsync("10.1.0.7/16", CancellationToken.None));

        Assert.Equal(before, await File.ReadAllBytesAsync(store.FilePath));
        Assert.Single(Directory.GetFiles(_root));
    }

    [Fact]
    public async Task Checkpoint_of_an_unknown_version_is_refused()
    {
        var store = new FileNodeConfigStore(new SphereletOptions { Root = _root });
        await File.WriteAllTextAsync(store.FilePath, """{"version": 9, "podCidrs": []}""");

        await Assert.ThrowsAsync<InvalidDataException>(() => store.LoadAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("systemd", CgroupDriver.Systemd)]
    [InlineData("cgroupfs", CgroupDriver.Cgroupfs)]
    public void Configured_cgroup_driver_wins(string configured, CgroupDriver expected)
    {
        Assert.Equal(expected, CgroupDriverDetector.Resolve(configured, "/nonexistent"));
    }

    [Fact]
    public void Auto_cgroup_driver_follows_whether_systemd_booted_the_host()
    {
        Assert.Equal(CgroupDriver.Systemd, CgroupDriverDetector.Resolve("auto", _root));
        Assert.Equal(CgroupDriver.Cgroupfs, CgroupDriverDetector.Resolve("auto", Path.Combine(_root, "absent")));
    }
}
