using System.Text.Json.Nodes;
using Runtime.V1;
using Spherelet.Cri.Oci;
using Spherelet.Domain.Errors;

namespace Spherelet.Tests.Oci;

/// <summary>A pod's user namespace: the modes and mappings accepted, and what each container gets.</summary>
public sealed class UserNamespacesTests
{
    private static UserNamespace Pod(params (long ContainerId, long HostId, long Length)[] mappings)
    {
        var options = new UserNamespace { Mode = NamespaceMode.Pod };
        foreach (var (containerId, hostId, length) in mappings)
        {
            options.Uids.Add(new IDMapping { ContainerId = (uint)containerId, HostId = (uint)hostId, Length = (uint)length });
            options.Gids.Add(new IDMapping { ContainerId = (uint)containerId, HostId = (uint)hostId, Length = (uint)length });
        }

        return options;
    }

    private static JsonObject Linux() => new() { ["namespaces"] = new JsonArray(new JsonObject { ["type"] = "mount" }) };

    [Fact]
    public void Mode_POD_with_one_mapping_from_0_gives_the_container_a_user_namespace_with_it()
    {
        var linux = Linux();

        UserNamespaces.Apply(linux, Pod((0, 1000, 100000)), Pod((0, 1000, 100000)));

        Assert.Equal(["mount", "user"], linux["namespaces"]!.AsArray().Select(n => (string?)n!["type"]));
        Assert.Equal("""[{"containerID":0,"hostID":1000,"size":100000}]""", linux["uidMappings"]!.ToJsonString());
        Assert.Equal("""[{"containerID":0,"hostID":1000,"size":100000}]""", linux["gidMappings"]!.ToJsonString());
    }

    [Fact]
    public void Mode_NODE_or_none_is_the_VMs_own_user_namespace()
    {
        var linux = Linux();

        Assert.False(UserNamespaces.Validate(null));
        Assert.False(UserNamespaces.Validate(new UserNamespace { Mode = NamespaceMode.Node }));
        UserNamespaces.Apply(linux, new UserNamespace { Mode = NamespaceMode.Node }, null);

        Assert.Single(linux["namespaces"]!.AsArray());
        Assert.Null(linux["uidMappings"]);
    }

    [Fact]
    public void More_than_one_mapping_is_refused()
    {
        var error = Assert.Throws<InvalidRequestException>(() => UserNamespaces.Validate(Pod((0, 1000, 100000), (0, 2000, 100000))));

        Assert.Contains("exactly one mapping", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mapping_that_does_not_map_container_id_0_is_refused()
    {
        var error = Assert.Throws<InvalidRequestException>(() => UserNamespaces.Validate(Pod((1, 1000, 100000))));

        Assert.Contains("container id 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_or_overflowing_range_is_refused()
    {
        Assert.Throws<InvalidRequestException>(() => UserNamespaces.Validate(Pod((0, 1000, 0))));
        Assert.Throws<InvalidRequestException>(() => UserNamespaces.Validate(Pod((0, uint.MaxValue - 10, 100))));
    }

    [Theory]
    [InlineData(NamespaceMode.Container)]
    [InlineData(NamespaceMode.Target)]
    public void Modes_CONTAINER_and_TARGET_are_refused(NamespaceMode mode)
    {
        var error = Assert.Throws<InvalidRequestException>(() => UserNamespaces.Validate(new UserNamespace { Mode = mode }));

        Assert.Contains("NODE or POD", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mappings_with_mode_NODE_are_refused()
    {
        var options = Pod((0, 1000, 100));
        options.Mode = NamespaceMode.Node;

        Assert.Throws<InvalidRequestException>(() => UserNamespaces.Validate(options));
    }

    [Fact]
    public void A_container_asking_for_other_mappings_than_its_pod_is_refused()
    {
        Assert.Throws<InvalidRequestException>(() => UserNamespaces.Apply(Linux(), Pod((0, 1000, 100000)), Pod((0, 5000, 100000))));
        Assert.Throws<InvalidRequestException>(() => UserNamespaces.Apply(Linux(), null, Pod((0, 5000, 100000))));
    }
}
