using Spherelet.Agent.Network;
using Spherelet.Agent.Node;
using Spherelet.Agent.Options;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Network;
using Spherelet.Domain.Node;
using Spherelet.Domain.Sandboxes;
using Spherelet.Network;

namespace Spherelet.Tests.Network;

/// <summary>Without a pod CIDR a pod has no network (and nothing on the switch is touched); host ports then cannot be honoured.</summary>
public sealed class OvsPodNetworkTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sph-podnet-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private OvsPodNetwork NewNetwork(NodeConfig node) => new(
        node,
        new NetworkAllocator(new FileNetworkAllocationStore(_root), new NetworkAllocatorOptions()),
        new OvsSwitch(Path.Combine(_root, "no-ovsdb.sock")),
        new NftHostPorts("00112233aabbccdd"),
        new NftEgress("00112233aabbccdd"),
        new OvsIsolation(_root, "00112233aabbccdd"),
        new OvsPortSecurity(_root, "00112233aabbccdd"),
        new PodNetworkSettings("br-test", "netdev", 1500, false, null, new Dictionary<string, NamespacePolicy>()),
        Microsoft.Extensions.Logging.Abstractions.NullLogger<OvsPodNetwork>.Instance);

    [Fact]
    public async Task Without_a_pod_cidr_a_pod_has_no_network_and_host_ports_are_refused()
    {
        using var node = new NodeConfig(new FileNodeConfigStore(new SphereletOptions { Root = _root }));
        var network = NewNetwork(node);
        var metadata = new PodSandboxMetadata("web", "team-a", "uid-web", 0);

        var attachment = await network.AttachAsync(new string('a', 64), metadata, [], CancellationToken.None);
        var error = await Assert.ThrowsAsync<PreconditionFailedException>(() =>
            network.AttachAsync(new string('b', 64), metadata, [new PortMapping("tcp", 80, 8080, string.Empty)], CancellationToken.None));

        Assert.Null(attachment);
        Assert.Contains("no pod CIDR", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "network", "allocations.json")), "nothing was allocated");
    }
}
