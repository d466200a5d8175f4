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

    [Fact]
    public void In_a_user_namespace_the_pods_shared_proc_mqueue_and_sysfs_are_bound_from_the_VM_and_a_new_PID_namespace_gets_its_own_proc()
    {
        var container = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = "c" },
            Command = { "sh" },
            Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext { NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Container, Ipc = NamespaceMode.Pod, UsernsOptions = Pod((0, 1000, 100000)) } } },
        };
        var sandbox = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = "p", Namespace = "n", Uid = "u" },
            Linux = new LinuxPodSandboxConfig { SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = new NamespaceOption { UsernsOptions = Pod((0, 1000, 100000)) } } },
        };

        var spec = OciSpecBuilder.Build(new OciSpecInput
        {
            ContainerId = "c0ffee",
            Container = container,
            Sandbox = sandbox,
            Image = new Spherelet.Images.Store.ImageConfigInfo(),
            RootfsPath = "/run/crx/rootfs/c0ffee",
            SandboxFilesDirectory = "/run/crx/sandbox",
            CgroupsPath = "/spherelet/c0ffee",
            Passwd = "root:x:0:0::/:/bin/sh\n",
            Group = "root:x:0:\n",
            Mounts = [],
        });
        var mounts = spec["mounts"]!.AsArray().ToDictionary(m => (string)m!["destination"]!, m => m!);

        Assert.Equal("proc", (string?)mounts["/proc"]["type"]); // its own PID namespace: a new proc
        Assert.Equal(("bind", "/dev/mqueue"), ((string?)mounts["/dev/mqueue"]["type"], (string?)mounts["/dev/mqueue"]["source"]));
        Assert.Equal(("bind", "/sys"), ((string?)mounts["/sys"]["type"], (string?)mounts["/sys"]["source"]));
        Assert.Contains("ro", mounts["/sys"]["options"]!.AsArray().Select(o => (string?)o));
        Assert.Equal("cgroup2", (string?)mounts["/sys/fs/cgroup"]["type"]);
    }
}
