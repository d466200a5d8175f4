using System.Text.Json.Nodes;
using Runtime.V1;
using Spherelet.Cri;
using Spherelet.Cri.Oci;
using Spherelet.Domain.Errors;
using CgroupDriver = Spherelet.Domain.Node.CgroupDriver;
using Spherelet.Domain.Sandboxes;
using Spherelet.Images.Store;
using Spherelet.Testing.Kubelet;

namespace Spherelet.Tests.Cri;

/// <summary>
/// Requests shaped as the kubelet of the 1.32 line sends them: every field is honoured or refused
/// with a clear error, none dropped. The pod VM side is in the integration tests.
/// </summary>
public sealed class KubeletRequestTests
{
    private const string Image = "registry.test/team/web:1.0";

    private const string ImageId = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    [Fact]
    public void A_burstable_pod_maps_its_cgroup_parent_cpu_requests_and_limits_into_the_command()
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv");

        var command = SandboxMapping.ToCommand(KubeletRequests.RunPodSandbox(pod));

        Assert.Equal("/kubepods/burstable/pod0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", command.CgroupParent);
        Assert.Equal(102, command.CpuShares);
        Assert.Equal(500, command.CpuMillis);
        Assert.Equal(128L << 20, command.MemoryLimitBytes);
        Assert.Equal(PodOverhead.None, command.Overhead);
        Assert.Equal(PodNamespaceRequest.Isolated, command.Namespaces);
        Assert.Equal(string.Empty, command.SelinuxLabel);
        SandboxRequestValidator.Validate(command);
        SandboxRequestValidator.ValidateCgroupParent(command.CgroupParent, CgroupDriver.Cgroupfs);
    }

    [Fact]
    public void A_guaranteed_pod_carries_its_overhead_and_sits_directly_under_kubepods()
    {
        var pod = KubeletPods.GuaranteedWithInitAndSidecar(Image, "/var/lib/kubelet", "/var/log/pods");

        var command = SandboxMapping.ToCommand(KubeletRequests.RunPodSandbox(pod));

        Assert.Equal("Guaranteed", pod.QosClass);
        Assert.Equal("/kubepods/pod9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a", command.CgroupParent);
        // The sidecar runs beside the app: 250m + 1000m; the init container's 250m is less.
        Assert.Equal(1250, command.CpuMillis);
        Assert.Equal(KubeletRequests.MilliCpuToShares(1250), command.CpuShares);
        Assert.Equal(new PodOverhead(250, 160L << 20), command.Overhead);
    }

    [Theory]
    [InlineData("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b1c2d3e_4f50_6172_8394_a5b6c7d8e9f0.slice", true)]
    [InlineData("kubepods-burstable-pod0b1c2d3e_4f50_6172_8394_a5b6c7d8e9f0.slice", true)]
    [InlineData("/kubepods/burstable/pod0b1c2d3e", false)]
    [InlineData("/kubepods.slice/../etc.slice", false)]
    [InlineData("kubepods/x.slice", false)]
    public void The_systemd_driver_takes_the_slice_path_the_kubelet_sends(string parent, bool valid)
    {
        var check = () => SandboxRequestValidator.ValidateCgroupParent(parent, CgroupDriver.Systemd);

        if (valid)
        {
            check();
        }
        else
        {
            Assert.Contains("systemd", Assert.Throws<InvalidRequestException>(check).Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("/kubepods/burstable/pod0b1c2d3e", true)]
    [InlineData("/kubepods/pod1", true)]
    [InlineData("kubepods/pod1", false)]
    [InlineData("/kubepods/../pod1", false)]
    [InlineData("/kubepods.slice/kubepods-pod1.slice", false)]
    public void The_cgroupfs_driver_takes_an_absolute_cgroup_path(string parent, bool valid)
    {
        var check = () => SandboxRequestValidator.ValidateCgroupParent(parent, CgroupDriver.Cgroupfs);

        if (valid)
        {
            check();
        }
        else
        {
            Assert.Contains("cgroupfs", Assert.Throws<InvalidRequestException>(check).Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("network")]
    [InlineData("pid")]
    [InlineData("ipc")]
    public void A_host_namespace_is_refused_at_RunPodSandbox(string which)
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv") with { HostNetwork = which == "network", HostPid = which == "pid", HostIpc = which == "ipc" };

        var command = SandboxMapping.ToCommand(KubeletRequests.RunPodSandbox(pod));
        var error = Assert.Throws<InvalidRequestException>(() => SandboxRequestValidator.Validate(command));

        Assert.Contains("each pod runs in its own VM", error.Message, StringComparison.Ordinal);
        Assert.Contains(which == "network" ? "hostNetwork" : which == "pid" ? "hostPID" : "hostIPC", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pod_user_namespace_without_mappings_and_an_selinux_label_are_refused_at_RunPodSandbox()
    {
        var request = KubeletRequests.RunPodSandbox(KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv"));
        request.Config.Linux.SecurityContext.NamespaceOptions.UsernsOptions = new UserNamespace { Mode = NamespaceMode.Pod };
        Assert.Contains("exactly one mapping", Assert.Throws<InvalidRequestException>(() => SandboxRequestValidator.Validate(SandboxMapping.ToCommand(request))).Message, StringComparison.Ordinal);

        request = KubeletRequests.RunPodSandbox(KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv"));
        request.Config.Linux.SecurityContext.SelinuxOptions = new SELinuxOption { Type = "spc_t", Level = "s0:c1,c2" };
        Assert.Contains("spc_t:s0:c1,c2", Assert.Throws<InvalidRequestException>(() => SandboxRequestValidator.Validate(SandboxMapping.ToCommand(request))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_hostUsers_false_pod_is_accepted_and_each_container_runs_in_a_user_namespace_with_the_pod_s_mappings()
    {
        // What the kubelet sends for hostUsers: false: one 65536-id range per pod, the same for uids and gids.
        var userns = new UserNamespace { Mode = NamespaceMode.Pod };
        userns.Uids.Add(new IDMapping { ContainerId = 0, HostId = 65536 * 7, Length = 65536 });
        userns.Gids.Add(new IDMapping { ContainerId = 0, HostId = 65536 * 7, Length = 65536 });
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv");
        var run = KubeletRequests.RunPodSandbox(pod);
        run.Config.Linux.SecurityContext.NamespaceOptions.UsernsOptions = userns;
        var create = KubeletRequests.CreateContainer(pod, pod.Containers[0], "sandbox", ImageId);
        create.SandboxConfig = run.Config;
        create.Config.Linux.SecurityContext.NamespaceOptions.UsernsOptions = userns.Clone();

        var command = SandboxMapping.ToCommand(run);
        SandboxRequestValidator.Validate(command);
        var linux = Build(create)["linux"]!;

        Assert.True(command.Namespaces.UserNamespace);
        Assert.Contains(linux["namespaces"]!.AsArray(), n => (string?)n!["type"] == "user");
        foreach (var mappings in new[] { "uidMappings", "gidMappings" })
        {
            var mapping = Assert.Single(linux[mappings]!.AsArray())!;
            Assert.Equal("""{"containerID":0,"hostID":458752,"size":65536}""", mapping.ToJsonString());
        }
    }

    [Fact]
    public void Every_container_of_the_representative_pods_gets_a_spec()
    {
        foreach (var pod in new[] { KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv"), KubeletPods.GuaranteedWithInitAndSidecar(Image, "/var/lib/kubelet", "/var/log/pods") })
        {
            foreach (var container in pod.AllContainers)
            {
                var spec = Build(KubeletRequests.CreateContainer(pod, container, "sandbox", ImageId));

                Assert.Equal("1", (string?)spec["linux"]!["resources"]!["unified"]!["memory.oom.group"]);
                Assert.Equal("0", (string?)spec["linux"]!["resources"]!["unified"]!["memory.swap.max"]);
            }
        }
    }

    [Fact]
    public void Zero_hugepage_limits_for_every_host_page_size_are_accepted_and_the_2MB_one_applied_in_the_guest()
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv") with { HostPageSizes = ["1GB", "2MB", "64KB"] };

        var spec = Build(KubeletRequests.CreateContainer(pod, pod.Containers[0], "sandbox", ImageId));

        var limits = spec["linux"]!["resources"]!["hugepageLimits"]!.AsArray();
        var only = Assert.Single(limits);
        Assert.Equal("2MB", (string?)only!["pageSize"]);
        Assert.Equal(0UL, (ulong)only["limit"]!);
    }

    [Fact]
    public void A_2MiB_hugepage_limit_is_applied_in_the_guest_and_CRX_told_how_many_pages_the_pod_needs()
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv");
        var request = KubeletRequests.CreateContainer(pod, pod.Containers[0] with { Hugepages2MiBytes = 64L << 20 }, "sandbox", ImageId);

        Assert.Equal(64L << 20, Hugepages.Limit2MB(request.Config.Linux.Resources));
        var spec = OciSpecBuilder.Build(Input(request) with { PodHugepages2MB = 48 });

        var limit = Assert.Single(spec["linux"]!["resources"]!["hugepageLimits"]!.AsArray())!;
        Assert.Equal(("2MB", 64UL << 20), ((string?)limit["pageSize"], (ulong)limit["limit"]!));
        Assert.Equal("48", (string?)spec["annotations"]![Spherelet.Crx.Protocol.SpecAnnotations.Hugepages2MB]);
    }

    [Fact]
    public void A_non_zero_limit_on_1GiB_hugepages_is_refused_with_FailedPrecondition()
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv");
        var request = KubeletRequests.CreateContainer(pod, pod.Containers[0], "sandbox", ImageId);
        request.Config.Linux.Resources.HugepageLimits.Single(h => h.PageSize == "1GB").Limit = 1UL << 30;

        var error = Assert.Throws<PreconditionFailedException>(() => Build(request));

        Assert.Contains("hugepages-1GB", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_restricted_standard_gives_a_non_root_process_without_capabilities_with_no_new_privileges_and_the_default_seccomp_profile()
    {
        var pod = KubeletPods.GuaranteedWithInitAndSidecar(Image, "/var/lib/kubelet", "/var/log/pods");

        var spec = Build(KubeletRequests.CreateContainer(pod, pod.Containers[0], "sandbox", ImageId));

        Assert.Equal(1000, (long)spec["process"]!["user"]!["uid"]!);
        Assert.Contains(2000L, spec["process"]!["user"]!["additionalGids"]!.AsArray().Select(g => (long)g!));
        Assert.Empty(spec["process"]!["capabilities"]!["bounding"]!.AsArray());
        Assert.True((bool)spec["process"]!["noNewPrivileges"]!);
        Assert.Contains("ptrace", spec["linux"]!["seccomp"]!["syscalls"]![0]!["names"]!.AsArray().Select(n => (string?)n));
        Assert.Equal(-997, (long)spec["process"]!["oomScoreAdj"]!);
    }

    [Fact]
    public void A_fuse_device_becomes_the_guest_fuse_node_allowed_in_the_device_cgroup()
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv");

        var spec = Build(KubeletRequests.CreateContainer(pod, pod.Containers[0], "sandbox", ImageId));

        var device = Assert.Single(spec["linux"]!["devices"]!.AsArray());
        Assert.Equal("/dev/fuse", (string?)device!["path"]);
        Assert.Equal((10L, 229L), ((long)device["major"]!, (long)device["minor"]!));
        var rule = spec["linux"]!["resources"]!["devices"]!.AsArray().Last()!;
        Assert.True((bool)rule["allow"]!);
        Assert.Equal("rw", (string?)rule["access"]);
    }

    [Theory]
    [InlineData("/dev/sda")]
    [InlineData("/dev/nvidia0")]
    [InlineData("/dev/kvm")]
    public void A_host_device_the_guest_cannot_provide_is_refused_naming_it(string path)
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv");
        var container = pod.Containers[0] with { PluginDevices = [(path, path, "rw")] };

        var error = Assert.Throws<InvalidRequestException>(() => Build(KubeletRequests.CreateContainer(pod, container, "sandbox", ImageId)));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_raw_block_volume_becomes_a_block_node_that_CRX_resolves_by_the_disks_serial()
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv") with { Volumes = [new KubeVolume("disk", KubeVolumeKind.BlockDevice) { Path = "/dev/loop7" }] };
        var container = pod.Containers[0] with { VolumeMounts = [], PluginDevices = [], VolumeDevices = new Dictionary<string, string> { ["disk"] = "/dev/xvda" } };
        var request = KubeletRequests.CreateContainer(pod, container, "sandbox", ImageId);
        var block = Assert.Throws<InvalidRequestException>(() => Build(request));
        Assert.Contains("volumeDevices/kubernetes.io~csi/disk", block.Message, StringComparison.Ordinal);

        var spec = Build(request, new Dictionary<string, string> { ["/dev/xvda"] = "sph0011223344556677" });

        var node = Assert.Single(spec["linux"]!["devices"]!.AsArray())!;
        Assert.Equal(("/dev/xvda", "b"), ((string?)node["path"], (string?)node["type"]));
        Assert.Equal("sph0011223344556677:mrw", (string?)spec["annotations"]!["io.spherelet.block-device//dev/xvda"]);
        // The guest's numbers are CRX's to fill in, and so is the rule allowing them.
        Assert.Single(spec["linux"]!["resources"]!["devices"]!.AsArray());
    }

    [Fact]
    public void A_CDI_device_is_refused_naming_it_and_a_reserved_annotation_too()
    {
        var request = KubeletRequests.CreateContainer(KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv"), KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv").Containers[0], "sandbox", ImageId);
        request.Config.CDIDevices.Add(new CDIDevice { Name = "nvidia.com/gpu=0" });
        var cdi = Assert.Throws<InvalidRequestException>(() => Build(request));
        Assert.Contains("nvidia.com/gpu=0", cdi.Message, StringComparison.Ordinal);

        request = KubeletRequests.CreateContainer(KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv"), KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv").Containers[0], "sandbox", ImageId);
        request.Config.Annotations["io.spherelet.block-device//dev/sda"] = "x:rw";
        Assert.Contains("reserved", Assert.Throws<InvalidRequestException>(() => Build(request)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SecurityProfile.Types.ProfileType.RuntimeDefault, "runtime/default", true)]
    [InlineData(SecurityProfile.Types.ProfileType.Unconfined, "unconfined", true)]
    [InlineData(SecurityProfile.Types.ProfileType.Localhost, "localhost/k8s-nginx", false)]
    public void AppArmor_profiles_other_than_runtime_default_and_unconfined_are_refused(SecurityProfile.Types.ProfileType type, string legacy, bool accepted)
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv");
        var request = KubeletRequests.CreateContainer(pod, pod.Containers[0], "sandbox", ImageId);
        request.Config.Linux.SecurityContext.Apparmor = new SecurityProfile { ProfileType = type, LocalhostRef = type == SecurityProfile.Types.ProfileType.Localhost ? "k8s-nginx" : string.Empty };
#pragma warning disable CS0612 // the kubelet still fills the deprecated field
        request.Config.Linux.SecurityContext.ApparmorProfile = legacy;
#pragma warning restore CS0612

        if (accepted)
        {
            Build(request);
        }
        else
        {
            Assert.Contains("AppArmor profile 'k8s-nginx'", Assert.Throws<InvalidRequestException>(() => Build(request)).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Ambient_capabilities_reach_the_process_ambient_and_inheritable_sets()
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv");
        var request = KubeletRequests.CreateContainer(pod, pod.Containers[0] with { PluginDevices = [] }, "sandbox", ImageId);
        request.Config.Linux.SecurityContext.RunAsUser = new Int64Value { Value = 1000 };
        request.Config.Linux.SecurityContext.Capabilities = new Capability { DropCapabilities = { "ALL" }, AddAmbientCapabilities = { "NET_BIND_SERVICE" } };

        var capabilities = Build(request)["process"]!["capabilities"]!;

        foreach (var set in new[] { "bounding", "effective", "permitted", "inheritable", "ambient" })
        {
            Assert.Equal(["CAP_NET_BIND_SERVICE"], capabilities[set]!.AsArray().Select(c => (string?)c));
        }
    }

    [Fact]
    public void A_kubelet_container_with_the_strict_supplemental_groups_policy_gets_its_own_group_and_the_requested_ones()
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv");
        var request = KubeletRequests.CreateContainer(pod, pod.Containers[0], "sandbox", ImageId);
        request.Config.Linux.SecurityContext.SupplementalGroupsPolicy = SupplementalGroupsPolicy.Strict;
        request.Config.Linux.SecurityContext.SupplementalGroups.Add(4321);

        var user = Build(request)["process"]!["user"]!;
        var groups = user["additionalGids"]!.AsArray().Select(g => (long)g!).ToArray();

        Assert.Contains((long)user["gid"]!, groups);
        Assert.Contains(4321L, groups);
    }

    [Fact]
    public void A_container_selinux_label_is_refused()
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv");
        var request = KubeletRequests.CreateContainer(pod, pod.Containers[0], "sandbox", ImageId);
        request.Config.Linux.SecurityContext.SelinuxOptions = new SELinuxOption { User = "system_u", Role = "system_r", Type = "container_t", Level = "s0" };

        Assert.Contains("system_u:system_r:container_t:s0", Assert.Throws<InvalidRequestException>(() => Build(request)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_mounts_the_kubelet_sends_are_read_only_where_the_volume_kind_says()
    {
        var pod = KubeletPods.BurstableWeb(Image, "/var/lib/kubelet", "/var/log/pods", "/srv");

        var mounts = ContainerMapping.ToMountRequests(KubeletRequests.CreateContainer(pod, pod.Containers[0], "sandbox", ImageId).Config.Mounts);

        Assert.Equal(
            ["/config", "/etc/creds", "/var/run/secrets/kubernetes.io/serviceaccount", "/etc/podinfo", "/cache", "/node-data", "/etc/hosts", "/dev/termination-log"],
            mounts.Select(m => m.ContainerPath));
        Assert.Equal([true, true, true, true, false, false, false, false], mounts.Select(m => m.ReadOnly));
        Assert.Equal("/srv/made-by-the-runtime", mounts[5].HostPath);
        Assert.Equal("/var/lib/kubelet/pods/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0/volumes/kubernetes.io~configmap/config", mounts[0].HostPath);
        Assert.Equal("/var/lib/kubelet/pods/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0/etc-hosts", mounts[6].HostPath);
    }

    private static JsonObject Build(CreateContainerRequest request, IReadOnlyDictionary<string, string>? serials = null) =>
        OciSpecBuilder.Build(Input(request) with { BlockDeviceSerials = serials ?? new Dictionary<string, string>() });

    private static OciSpecInput Input(CreateContainerRequest request) => new()
    {
        ContainerId = "c0ffee",
        Container = request.Config,
        Sandbox = request.SandboxConfig,
        Image = new ImageConfigInfo { Cmd = ["sh"] },
        RootfsPath = "/run/crx/rootfs/c0ffee",
        SandboxFilesDirectory = "/run/crx/sandbox",
        CgroupsPath = "/spherelet/c0ffee",
        Passwd = "root:x:0:0:root:/root:/bin/sh\n",
        Group = "root:x:0:\n",
        Mounts = [],
    };
}
