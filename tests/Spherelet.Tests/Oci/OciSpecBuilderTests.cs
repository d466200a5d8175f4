using System.Text.Json;
using Runtime.V1;
using Spherelet.Cri.Oci;
using Spherelet.Domain.Errors;
using Spherelet.Images.Store;

namespace Spherelet.Tests.Oci;

/// <summary>The OCI runtime spec generator: golden files for whole specs (SPHERELET_UPDATE_GOLDEN=1 rewrites them) and the rules one by one.</summary>
public sealed class OciSpecBuilderTests
{
    private const string Passwd = "root:x:0:0:root:/root:/bin/sh\napp:x:1001:1002:app:/home/app:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n";
    private const string Group = "root:x:0:\napp:x:1002:\nwheel:x:10:app,root\naudio:x:29:app\n";

    private static readonly ImageConfigInfo Image = new()
    {
        User = "app",
        Env = ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"],
        Entrypoint = ["/entrypoint.sh"],
        Cmd = ["serve", "--port", "8080"],
        WorkingDir = "/srv",
    };

    private static OciSpecInput Input(ContainerConfig container, ImageConfigInfo? image = null) => new()
    {
        ContainerId = "c0ffee",
        Container = container,
        Sandbox = new PodSandboxConfig { Metadata = new PodSandboxMetadata { Name = "web", Namespace = "team-a", Uid = "u1" } },
        Image = image ?? Image,
        RootfsPath = "/run/crx/rootfs/c0ffee",
        SandboxFilesDirectory = "/run/crx/sandbox",
        CgroupsPath = "/spherelet/c0ffee",
        Passwd = Passwd,
        Group = Group,
        Mounts = [new OciMount("/data", "/pod/volumes/data", ReadOnly: true), new OciMount("/dev/termination-log", "/pod/containers/c0ffee/termination-log", ReadOnly: false)],
    };

    private static ContainerConfig Typical() => new()
    {
        Metadata = new ContainerMetadata { Name = "app" },
        Image = new ImageSpec { Image = "sha256:" + new string('a', 64) },
        Args = { "serve", "--port", "9090" },
        Envs = { new KeyValue { Key = "LANG", Value = Google.Protobuf.ByteString.CopyFromUtf8("en_US.UTF-8") }, new KeyValue { Key = "MODE", Value = Google.Protobuf.ByteString.CopyFromUtf8("prod") } },
        Annotations = { ["io.kubernetes.container.name"] = "app" },
        Linux = new LinuxContainerConfig
        {
            Resources = new LinuxContainerResources { CpuShares = 512, CpuQuota = 50000, CpuPeriod = 100000, MemoryLimitInBytes = 256L << 20, OomScoreAdj = 900 },
            SecurityContext = new LinuxContainerSecurityContext
            {
                Capabilities = new Capability { AddCapabilities = { "NET_ADMIN" }, DropCapabilities = { "MKNOD", "CAP_NET_RAW" } },
                SupplementalGroups = { 3000 },
                NoNewPrivs = true,
                NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Container, Ipc = NamespaceMode.Pod, Network = NamespaceMode.Pod },
                Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.RuntimeDefault },
                // What the kubelet sends for procMount Default.
                MaskedPaths = { KubeletDefaultMaskedPaths },
                ReadonlyPaths = { KubeletDefaultReadonlyPaths },
            },
        },
    };

    private static readonly string[] KubeletDefaultMaskedPaths =
    [
        "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
    ];

    private static readonly string[] KubeletDefaultReadonlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    private static ContainerConfig Privileged() => new()
    {
        Metadata = new ContainerMetadata { Name = "admin" },
        Command = { "/bin/sh", "-c" },
        Args = { "sleep infinity" },
        Tty = true,
        Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext
            {
                Privileged = true,
                ReadonlyRootfs = true,
                RunAsUser = new Int64Value { Value = 0 },
                NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Pod, Ipc = NamespaceMode.Container },
            },
        },
    };

    [Theory]
    [InlineData("typical")]
    [InlineData("privileged")]
    public void Spec_matches_its_golden_file(string name)
    {
        var spec = OciSpecBuilder.Build(Input(name == "typical" ? Typical() : Privileged()));
        var json = spec.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

        if (Environment.GetEnvironmentVariable("SPHERELET_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(SourceDirectory(), name + ".json"), json);
            return;
        }

        Assert.Equal(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Oci", "Golden", name + ".json")), json);
    }

    [Theory]
    [InlineData(new string[0], new string[0], "/entrypoint.sh serve --port 8080")]
    [InlineData(new string[0], new[] { "run" }, "/entrypoint.sh run")]
    [InlineData(new[] { "/bin/app" }, new string[0], "/bin/app")]
    [InlineData(new[] { "/bin/app" }, new[] { "-v" }, "/bin/app -v")]
    public void Command_and_args_combine_with_entrypoint_and_cmd_as_the_kubelet_expects(string[] command, string[] args, string expected)
    {
        var container = new ContainerConfig { Command = { command }, Args = { args } };

        Assert.Equal(expected, string.Join(' ', OciSpecBuilder.Arguments(container, Image)));
    }

    [Fact]
    public void Masked_and_readonly_paths_are_exactly_the_ones_sent_and_none_when_the_lists_are_empty()
    {
        var unmasked = Typical();
        unmasked.Linux.SecurityContext.MaskedPaths.Clear(); // procMount: Unmasked
        unmasked.Linux.SecurityContext.ReadonlyPaths.Clear();

        var masked = OciSpecBuilder.Build(Input(Typical()))["linux"]!;
        var none = OciSpecBuilder.Build(Input(unmasked))["linux"]!;

        Assert.Equal(KubeletDefaultMaskedPaths, masked["maskedPaths"]!.AsArray().Select(p => (string)p!));
        Assert.Equal(KubeletDefaultReadonlyPaths, masked["readonlyPaths"]!.AsArray().Select(p => (string)p!));
        Assert.Empty(none["maskedPaths"]!.AsArray());
        Assert.Empty(none["readonlyPaths"]!.AsArray());
    }

    [Fact]
    public void No_command_anywhere_is_invalid()
    {
        Assert.Throws<InvalidRequestException>(() => OciSpecBuilder.Arguments(new ContainerConfig(), new ImageConfigInfo()));
    }

    [Fact]
    public void Container_environment_overrides_the_image_and_keeps_its_order()
    {
        var env = OciSpecBuilder.Environment(Typical(), Image);

        Assert.Equal(["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=en_US.UTF-8", "MODE=prod"], env);
    }

    [Theory]
    [InlineData(null, "", null, "app", 1001, 1002, "10,29,1002")]
    [InlineData(null, "", null, "app:wheel", 1001, 10, "10,29")]
    [InlineData(null, "", null, "1234:5678", 1234, 5678, "5678")]
    [InlineData(null, "", null, "", 0, 0, "0,10")]
    [InlineData(2000L, "", 3000L, "app", 2000, 3000, "3000")]
    [InlineData(null, "nobody", null, "app", 65534, 65534, "65534")]
    public void User_comes_from_the_security_context_or_the_image_and_its_user_database(
        long? runAsUser, string runAsUsername, long? runAsGroup, string imageUser, long uid, long gid, string groups)
    {
        var (actualUid, actualGid, additional) = ImageUsers.Resolve(Passwd, Group, runAsUser, runAsUsername, runAsGroup, [], imageUser);

        Assert.Equal(uid, actualUid);
        Assert.Equal(gid, actualGid);
        Assert.Equal(groups, string.Join(',', additional));
    }

    [Theory]
    [InlineData(false, "10,29,1002,4000")]
    [InlineData(true, "1002,4000")]
    public void Merge_adds_the_user_s_groups_in_the_image_to_the_requested_ones_and_strict_does_not(bool strict, string groups)
    {
        // app (1001, group 1002) is in wheel (10) and audio (29) in the image's /etc/group.
        var (_, gid, additional) = ImageUsers.Resolve(Passwd, Group, 1001, "", null, [4000], "", strict);

        Assert.Equal(1002, gid);
        Assert.Equal(groups, string.Join(',', additional));
    }

    [Fact]
    public void A_user_or_group_the_image_does_not_know_is_invalid()
    {
        Assert.Throws<InvalidRequestException>(() => ImageUsers.Resolve(Passwd, Group, null, "ghost", null, [], ""));
        Assert.Throws<InvalidRequestException>(() => ImageUsers.Resolve(Passwd, Group, null, "", null, [], "app:ghosts"));
    }

    [Fact]
    public void Run_as_group_without_a_user_is_invalid()
    {
        var error = Assert.Throws<InvalidRequestException>(() => ImageUsers.Resolve(Passwd, Group, null, "", 3000, [], "app"));

        Assert.Equal("run_as_group needs run_as_user or run_as_username", error.Message);
        Assert.Equal((1001L, 3000L), ImageUsers.Resolve(Passwd, Group, null, "app", 3000, [], "") is var (uid, gid, _) ? (uid, gid) : default);
    }

#pragma warning disable CS0612 // SeccompProfilePath is deprecated in CRI, still sent by older kubelets and by critest.
    [Theory]
    [InlineData("", "Unconfined", "")]
    [InlineData("unconfined", "Unconfined", "")]
    [InlineData("runtime/default", "RuntimeDefault", "")]
    [InlineData("docker/default", "RuntimeDefault", "")]
    [InlineData("localhost//var/lib/kubelet/seccomp/audit.json", "Localhost", "/var/lib/kubelet/seccomp/audit.json")]
    public void A_container_naming_no_seccomp_profile_is_unconfined_and_the_deprecated_profile_path_is_understood(string path, string type, string localhostRef)
    {
        var profile = SeccompProfiles.Effective(new LinuxContainerSecurityContext { SeccompProfilePath = path });

        Assert.Equal((type, localhostRef), (profile.ProfileType.ToString(), profile.LocalhostRef));
    }

    [Fact]
    public void The_seccomp_field_wins_over_the_deprecated_path_and_an_unknown_path_is_invalid()
    {
        var both = new LinuxContainerSecurityContext { SeccompProfilePath = "unconfined", Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.RuntimeDefault } };

        var error = Assert.Throws<InvalidRequestException>(() => SeccompProfiles.Effective(new LinuxContainerSecurityContext { SeccompProfilePath = "/tmp/profile.json" }));

        Assert.Equal(SecurityProfile.Types.ProfileType.RuntimeDefault, SeccompProfiles.Effective(both).ProfileType);
        Assert.Equal(SecurityProfile.Types.ProfileType.Unconfined, SeccompProfiles.Effective(null).ProfileType);
        Assert.Contains("'/tmp/profile.json' is not supported", error.Message, StringComparison.Ordinal);
        var unnamed = Typical();
        unnamed.Linux.SecurityContext.Seccomp = null;
        Assert.Contains("\"seccomp\"", OciSpecBuilder.Build(Input(Typical())).ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("\"seccomp\"", OciSpecBuilder.Build(Input(unnamed)).ToJsonString(), StringComparison.Ordinal);
    }
#pragma warning restore CS0612

    [Fact]
    public void Capabilities_are_the_default_set_with_adds_and_drops_and_all_when_privileged()
    {
        var caps = LinuxCapabilities.Compute(false, ["NET_ADMIN", "sys_time"], ["CHOWN"]);

        Assert.Contains("CAP_NET_ADMIN", caps);
        Assert.Contains("CAP_SYS_TIME", caps);
        Assert.DoesNotContain("CAP_CHOWN", caps);
        Assert.Empty(LinuxCapabilities.Compute(false, [], ["ALL"]));
        Assert.Equal(["CAP_KILL"], LinuxCapabilities.Compute(false, ["KILL"], ["ALL"]).Intersect(["CAP_KILL"]));
        Assert.Equal(LinuxCapabilities.All, LinuxCapabilities.Compute(true, [], ["ALL"]));
        Assert.Throws<InvalidRequestException>(() => LinuxCapabilities.Compute(false, ["NOT_A_CAP"], []));
    }

    [Fact]
    public void Seccomp_runtime_default_denies_kernel_wide_calls_unless_a_capability_grants_them()
    {
        var plain = SeccompProfiles.RuntimeDefault(LinuxCapabilities.Default).ToJsonString();
        var admin = SeccompProfiles.RuntimeDefault([.. LinuxCapabilities.Default, "CAP_SYS_ADMIN"]).ToJsonString();

        Assert.Contains("\"mount\"", plain, StringComparison.Ordinal);
        Assert.Contains("\"kexec_load\"", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("\"mount\"", admin, StringComparison.Ordinal);
        Assert.Null(SeccompProfiles.For(new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Unconfined }, false, [], null));
        var local = SeccompProfiles.For(
            new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Localhost, LocalhostRef = "profiles/audit.json" }, false, [], """{"defaultAction":"SCMP_ACT_LOG"}""");
        Assert.Equal("SCMP_ACT_LOG", local!["defaultAction"]!.GetValue<string>());
        Assert.Throws<InvalidRequestException>(() => SeccompProfiles.For(
            new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Localhost, LocalhostRef = "missing.json" }, false, [], null));
    }

    [Theory]
    [InlineData(NamespaceMode.Node, NamespaceMode.Pod, NamespaceMode.Pod)]
    [InlineData(NamespaceMode.Pod, NamespaceMode.Node, NamespaceMode.Pod)]
    [InlineData(NamespaceMode.Pod, NamespaceMode.Pod, NamespaceMode.Node)]
    public void Host_namespaces_are_refused_because_the_pod_is_a_vm(NamespaceMode pid, NamespaceMode ipc, NamespaceMode network)
    {
        var container = Typical();
        container.Linux.SecurityContext.NamespaceOptions = new NamespaceOption { Pid = pid, Ipc = ipc, Network = network };

        var error = Assert.Throws<InvalidRequestException>(() => OciSpecBuilder.Build(Input(container)));

        Assert.Contains("VM", error.Message, StringComparison.Ordinal);
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Golden");
}
