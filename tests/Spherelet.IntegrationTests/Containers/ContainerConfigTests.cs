using Google.Protobuf;
using Grpc.Core;
using Runtime.V1;

namespace Spherelet.IntegrationTests.Containers;

/// <summary>
/// What a container's config controls, seen from inside the container through its CRI log:
/// environment, working directory, user and groups, a read-only root file system and host
/// path mounts, and the configs that are refused. One pod VM for the whole class.
/// </summary>
[Collection(ContainerPod.Collection)]
public sealed class ContainerConfigTests : IClassFixture<ContainerPod>
{
    private readonly ContainerPod _pod;

    public ContainerConfigTests(ContainerPod pod)
    {
        _pod = pod;
    }

    [Fact]
    public async Task Envs_are_set_in_the_process_and_replace_the_image_env_of_the_same_name()
    {
        var config = _pod.Container("env", "env");
        config.Envs.Add(new KeyValue { Key = "GREETING", Value = ByteString.CopyFromUtf8("hello from the pod") });
        config.Envs.Add(new KeyValue { Key = "EMPTY", Value = ByteString.Empty });
        config.Envs.Add(new KeyValue { Key = "PATH", Value = ByteString.CopyFromUtf8("/bin:/work") });

        var (exit, stdout) = await RunToExitAsync(config, "GREETING=hello from the pod");

        Assert.Equal(0, exit.ExitCode);
        Assert.Contains("GREETING=hello from the pod", stdout);
        Assert.Contains("EMPTY=", stdout);
        Assert.Equal("PATH=/bin:/work", Assert.Single(stdout, l => l.StartsWith("PATH=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Without_a_working_dir_or_user_the_process_runs_as_root_in_the_root_directory()
    {
        var (exit, stdout) = await RunToExitAsync(_pod.Container("defaults", "sh", "-c", "id -u; id -g; pwd"), "/");

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(["0", "0", "/"], stdout);
    }

    [Fact]
    public async Task WorkingDir_is_the_process_working_directory()
    {
        var config = _pod.Container("cwd", "pwd");
        config.WorkingDir = "/work";

        var (exit, stdout) = await RunToExitAsync(config, "/work");

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(["/work"], stdout);
    }

    [Fact]
    public async Task RunAsUser_and_RunAsGroup_set_the_process_uid_and_gid()
    {
        var config = _pod.Container("uid", "sh", "-c", "id -u; id -g");
        config.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext { RunAsUser = new Int64Value { Value = 2000 }, RunAsGroup = new Int64Value { Value = 3000 } },
        };

        var (exit, stdout) = await RunToExitAsync(config, "3000");

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(["2000", "3000"], stdout);
    }

    [Fact]
    public async Task RunAsUsername_is_looked_up_in_the_image_passwd_and_gets_the_user_groups_from_the_image_group_file()
    {
        var config = _pod.Container("username", "sh", "-c", "id -un; id -u; id -g; id -G");
        config.Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext { RunAsUsername = "app" } };

        var (exit, stdout) = await RunToExitAsync(config, "app");

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(4, stdout.Count);
        Assert.Equal(["app", $"{ContainerTestImage.AppUid}", $"{ContainerTestImage.AppGid}"], stdout.Take(3));
        Assert.Contains($"{ContainerTestImage.ExtraGid}", stdout[3].Split(' '));
    }

    [Theory]
    [InlineData(SupplementalGroupsPolicy.Merge, "1234 4321 5555")]
    [InlineData(SupplementalGroupsPolicy.Strict, "1234 5555")]
    public async Task Merge_adds_the_image_s_groups_of_the_user_and_Strict_only_the_requested_ones_as_ContainerStatus_reports(SupplementalGroupsPolicy policy, string expected)
    {
        // app (1234) is a member of extra (4321) in the image's /etc/group.
        var config = _pod.Container($"groups-{policy.ToString().ToLowerInvariant()}", "sh", "-c", "id -G; sleep 1000");
        config.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext
            {
                RunAsUser = new Int64Value { Value = ContainerTestImage.AppUid },
                SupplementalGroups = { 5555 },
                SupplementalGroupsPolicy = policy,
            },
        };

        var id = await _pod.RunAsync(config);
        var stdout = await _pod.StdoutAsync(config, expected);
        var exec = await _pod.ExecAsync(id, 30, "id", "-G");
        var user = (await _pod.StatusAsync(id)).User.Linux;

        Assert.Equal(expected, stdout[0]);
        Assert.Equal(expected + "\n", exec.Stdout.ToStringUtf8());
        Assert.Equal((ContainerTestImage.AppUid, ContainerTestImage.AppGid), (user.Uid, user.Gid));
        Assert.Equal(expected, string.Join(' ', user.SupplementalGroups.Order()));
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task A_pod_with_its_own_user_namespace_runs_its_containers_with_the_pod_s_mappings()
    {
        // What critest's UserNamespaces spec asks: mode POD, 0 -> 1000 for 100000 ids.
        var userns = new UserNamespace { Mode = NamespaceMode.Pod };
        userns.Uids.Add(new IDMapping { ContainerId = 0, HostId = 1000, Length = 100000 });
        userns.Gids.Add(new IDMapping { ContainerId = 0, HostId = 1000, Length = 100000 });
        var podConfig = Sandboxes.SandboxDaemon.Pod("userns");
        podConfig.LogDirectory = Path.Combine(_pod.Dir.Path, "userns-logs");
        podConfig.Linux = new LinuxPodSandboxConfig { SecurityContext = new LinuxSandboxSecurityContext { NamespaceOptions = new NamespaceOption { UsernsOptions = userns } } };
        var podId = (await _pod.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = podConfig })).PodSandboxId;
        try
        {
            var config = _pod.Container("userns", "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/mine && stat -c %u /tmp/mine");
            config.Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext { NamespaceOptions = new NamespaceOption { UsernsOptions = userns } } };
            var id = (await _pod.Runtime.CreateContainerAsync(new CreateContainerRequest { PodSandboxId = podId, Config = config, SandboxConfig = podConfig })).ContainerId;
            await _pod.StartAsync(id);
            var exit = await _pod.WaitUntilExitedAsync(id);
            var log = await ContainerPod.LogAsync(Path.Combine(podConfig.LogDirectory, config.LogPath));
            var lines = log.Where(l => l.Stream == "stdout").Select(l => System.Text.RegularExpressions.Regex.Replace(l.Message.Trim(), @"\s+", " ")).ToList();

            Assert.Equal(0, exit.ExitCode);
            Assert.Equal(["0 1000 100000", "0 1000 100000", "0", "0"], lines);
        }
        finally
        {
            await _pod.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = podId });
        }
    }

    [Fact]
    public async Task SupplementalGroups_are_added_to_the_process_groups()
    {
        var config = _pod.Container("groups", "sh", "-c", "id -u; id -g; id -G");
        config.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext
            {
                RunAsUser = new Int64Value { Value = ContainerTestImage.AppUid },
                RunAsGroup = new Int64Value { Value = ContainerTestImage.ExtraGid },
                SupplementalGroups = { 5555, 6666 },
            },
        };

        var (exit, stdout) = await RunToExitAsync(config, $"{ContainerTestImage.AppUid}");

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(3, stdout.Count);
        Assert.Equal([$"{ContainerTestImage.AppUid}", $"{ContainerTestImage.ExtraGid}"], stdout.Take(2));
        var groups = stdout[2].Split(' ');
        Assert.Contains("5555", groups);
        Assert.Contains("6666", groups);
    }

    [Fact]
    public async Task ReadonlyRootfs_makes_writing_to_the_root_file_system_fail()
    {
        var writable = await RunToExitAsync(_pod.Container("rootfs-rw", "touch", "/x"), null);
        var config = _pod.Container("rootfs-ro", "touch", "/x");
        config.Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext { ReadonlyRootfs = true } };

        var id = await _pod.RunAsync(config);
        var exit = await _pod.WaitUntilExitedAsync(id);
        var log = await _pod.WaitForLogAsync(config, l => l.Any(r => r.Stream == "stderr"));

        Assert.Equal(0, writable.Exit.ExitCode);
        Assert.NotEqual(0, exit.ExitCode);
        Assert.Equal("Error", exit.Reason);
        Assert.Contains(log, r => r.Stream == "stderr" && r.Message.Contains("Read-only file system", StringComparison.Ordinal));
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task A_read_write_host_path_mount_shows_host_files_and_the_container_writes_appear_on_the_host()
    {
        var host = HostDirectory("host-rw");
        var config = _pod.Container("mount-rw", "sh", "-c", "cat /mnt/rw/from-host.txt && echo written in the container > /mnt/rw/from-container.txt");
        config.Mounts.Add(new Mount { ContainerPath = "/mnt/rw", HostPath = host, Readonly = false });

        var id = await _pod.CreateAsync(config);
        var status = await _pod.StatusAsync(id);
        await _pod.StartAsync(id);
        var exit = await _pod.WaitUntilExitedAsync(id);
        var stdout = await _pod.StdoutAsync(config, "written on the host");

        var mount = Assert.Single(status.Mounts);
        Assert.Equal(("/mnt/rw", host, false), (mount.ContainerPath, mount.HostPath, mount.Readonly));
        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(["written on the host"], stdout);
        Assert.Equal("written in the container\n", await File.ReadAllTextAsync(Path.Combine(host, "from-container.txt")));
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task A_readonly_host_path_mount_can_be_read_but_refuses_writes()
    {
        var host = HostDirectory("host-ro");
        var config = _pod.Container("mount-ro", "sh", "-c", "cat /mnt/ro/from-host.txt && touch /mnt/ro/refused");
        config.Mounts.Add(new Mount { ContainerPath = "/mnt/ro", HostPath = host, Readonly = true });

        var id = await _pod.CreateAsync(config);
        var status = await _pod.StatusAsync(id);
        await _pod.StartAsync(id);
        var exit = await _pod.WaitUntilExitedAsync(id);
        var log = await _pod.WaitForLogAsync(config, l => l.Any(r => r.Stream == "stderr"));

        var mount = Assert.Single(status.Mounts);
        Assert.Equal(("/mnt/ro", host, true), (mount.ContainerPath, mount.HostPath, mount.Readonly));
        Assert.NotEqual(0, exit.ExitCode);
        Assert.Contains(log, r => r.Stream == "stdout" && r.Message == "written on the host");
        Assert.Contains(log, r => r.Stream == "stderr" && r.Message.Contains("Read-only file system", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(host, "refused")), "a write went through the read-only mount");
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task A_recursive_read_only_mount_makes_the_mounts_under_the_host_path_read_only_too_where_a_plain_read_only_one_leaves_them_writable()
    {
        var host = HostDirectory("host-rro");
        var sub = Directory.CreateDirectory(Path.Combine(host, "sub")).FullName;
        await RunAsync("mount", "-t", "tmpfs", "-o", "size=1m", "sph-test", sub);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(sub, "under.txt"), "under a mount\n");
            var recursive = _pod.Container("mount-rro", "sh", "-c", "cat /mnt/rro/sub/under.txt && touch /mnt/rro/sub/refused");
            recursive.Mounts.Add(new Mount { ContainerPath = "/mnt/rro", HostPath = host, Readonly = true, RecursiveReadOnly = true });
            var plain = _pod.Container("mount-ro-top", "sh", "-c", "touch /mnt/ro/sub/written && ! touch /mnt/ro/refused-top");
            plain.Mounts.Add(new Mount { ContainerPath = "/mnt/ro", HostPath = host, Readonly = true });

            var id = await _pod.CreateAsync(recursive);
            var plainId = await _pod.CreateAsync(plain);
            var status = await _pod.StatusAsync(id);
            await _pod.StartAsync(id);
            var exit = await _pod.WaitUntilExitedAsync(id);
            var log = await _pod.WaitForLogAsync(recursive, l => l.Any(r => r.Stream == "stderr"));
            await _pod.StartAsync(plainId);
            var plainExit = await _pod.WaitUntilExitedAsync(plainId);

            // On the host, the mount under the host path is bound on its own beside the volume:
            // read-only for the recursive one, writable for the plain one (whose top is read-only).
            Assert.Equal("ro", SubmountAccess($"/share/volumes/{id}/0.sub/0"));
            Assert.Equal("rw", SubmountAccess($"/share/volumes/{plainId}/0.sub/0"));
            Assert.Equal(0, plainExit.ExitCode);
            Assert.True(File.Exists(Path.Combine(sub, "written")), "the plain read-only mount's submount is writable");
            Assert.False(File.Exists(Path.Combine(host, "refused-top")), "a write went through the read-only top");
            var mount = Assert.Single(status.Mounts);
            Assert.True(mount.Readonly && mount.RecursiveReadOnly, "ContainerStatus reports the mount as recursively read-only");
            Assert.NotEqual(0, exit.ExitCode);
            Assert.Contains(log, r => r.Stream == "stdout" && r.Message == "under a mount");
            Assert.Contains(log, r => r.Stream == "stderr" && r.Message.Contains("Read-only file system", StringComparison.Ordinal));
            Assert.False(File.Exists(Path.Combine(sub, "refused")), "a write went through the read-only mount");
            await _pod.RemoveAsync(id);
            await _pod.RemoveAsync(plainId);
            Assert.Null(SubmountAccessOrNull($"/share/volumes/{id}/0.sub/0"));
        }
        finally
        {
            await RunAsync("umount", "-l", sub);
        }
    }

    [Fact]
    public async Task A_recursive_read_only_mount_that_is_writable_or_follows_the_host_is_invalid_argument_and_creates_nothing()
    {
        var writable = _pod.Container("mount-rro-rw", "true");
        writable.Mounts.Add(new Mount { ContainerPath = "/mnt/x", HostPath = HostDirectory("host-rro-rw"), RecursiveReadOnly = true });
        var following = _pod.Container("mount-rro-slave", "true");
        following.Mounts.Add(new Mount { ContainerPath = "/mnt/x", HostPath = HostDirectory("host-rro-slave"), Readonly = true, RecursiveReadOnly = true, Propagation = MountPropagation.PropagationHostToContainer });

        var writableFailure = await Assert.ThrowsAsync<RpcException>(() => _pod.CreateAsync(writable));
        var followingFailure = await Assert.ThrowsAsync<RpcException>(() => _pod.CreateAsync(following));

        Assert.Equal((StatusCode.InvalidArgument, StatusCode.InvalidArgument), (writableFailure.StatusCode, followingFailure.StatusCode));
        Assert.Contains("recursive_read_only needs readonly", writableFailure.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("recursive_read_only needs private propagation", followingFailure.Status.Detail, StringComparison.Ordinal);
        await AssertNoContainerNamedAsync("mount-rro-rw");
        await AssertNoContainerNamedAsync("mount-rro-slave");
    }

    /// <summary>The access (<c>ro</c> or <c>rw</c>) of the host mount whose mount point ends so.</summary>
    private static string SubmountAccess(string endsWith) =>
        SubmountAccessOrNull(endsWith) ?? throw new InvalidOperationException($"no mount ends with {endsWith}");

    private static string? SubmountAccessOrNull(string endsWith) =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(l => l.Split(' '))
            .Where(f => f.Length > 5 && f[4].EndsWith(endsWith, StringComparison.Ordinal))
            .Select(f => f[5].Split(',')[0])
            .FirstOrDefault();

    private static async Task RunAsync(string program, params string[] arguments)
    {
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(program, arguments) { RedirectStandardError = true })!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {error}");
    }

    [Fact]
    public async Task A_missing_host_path_is_made_as_a_directory_and_kept_only_if_the_create_succeeds()
    {
        // A create that fails after the directory was made takes it away again.
        var missing = Path.Combine(_pod.Dir.Path, "no-such-host-dir", "made");
        var failing = _pod.Container("mount-missing-failing", "true");
        failing.Mounts.Add(new Mount { ContainerPath = "/mnt/missing", HostPath = missing });
        failing.Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext { RunAsGroup = new Int64Value { Value = 5 } } };
        var failure = await Assert.ThrowsAsync<RpcException>(() => _pod.CreateAsync(failing));
        Assert.Equal(StatusCode.InvalidArgument, failure.StatusCode);
        Assert.False(Path.Exists(Path.Combine(_pod.Dir.Path, "no-such-host-dir")), "the directories made for the failed create are left");
        await AssertNoContainerNamedAsync("mount-missing-failing");

        // As containerd does: the missing host path is made, and the container writes into it.
        var config = _pod.Container("mount-missing", "touch", "/mnt/missing/written");
        config.Mounts.Add(new Mount { ContainerPath = "/mnt/missing", HostPath = missing });
        var (exit, _) = await RunToExitAsync(config, null);

        Assert.Equal(0, exit.ExitCode);
        Assert.True(File.Exists(Path.Combine(missing, "written")), "the container wrote into the host path made for it");
    }

    [Fact]
    public async Task Bidirectional_mount_propagation_is_invalid_argument_and_creates_nothing()
    {
        var config = _pod.Container("mount-shared", "true");
        config.Mounts.Add(new Mount { ContainerPath = "/mnt/shared", HostPath = HostDirectory("host-shared"), Propagation = MountPropagation.PropagationBidirectional });

        var failure = await Assert.ThrowsAsync<RpcException>(() => _pod.CreateAsync(config));

        Assert.Equal(StatusCode.InvalidArgument, failure.StatusCode);
        await AssertNoContainerNamedAsync("mount-shared");
    }

    /// <summary>Runs the container to its end, removes it, and returns its exit status and its stdout lines (waiting for <paramref name="lastLine"/>).</summary>
    private async Task<(ContainerStatus Exit, IReadOnlyList<string> Stdout)> RunToExitAsync(ContainerConfig config, string? lastLine)
    {
        var id = await _pod.RunAsync(config);
        var exit = await _pod.WaitUntilExitedAsync(id);
        var stdout = await _pod.StdoutAsync(config, lastLine);
        await _pod.RemoveAsync(id);
        return (exit, stdout);
    }

    /// <summary>A fresh host directory holding from-host.txt.</summary>
    private string HostDirectory(string name)
    {
        var path = Path.Combine(_pod.Dir.Path, name);
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "from-host.txt"), "written on the host\n");
        return path;
    }

    /// <summary>No container of that name is listed, and the name is free: a valid config of that name is created (then removed).</summary>
    private async Task AssertNoContainerNamedAsync(string name)
    {
        var listed = await _pod.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = _pod.PodId } });
        Assert.DoesNotContain(listed.Containers, c => c.Metadata.Name == name);
        await _pod.RemoveAsync(await _pod.CreateAsync(_pod.Container(name, "true")));
    }
}
