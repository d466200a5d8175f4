using Spherelet.Agent.Mounts;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.IntegrationTests.Sandboxes;

/// <summary>
/// The pod shares on the host, made for real with the mount API (no VM): what the share lets a
/// guest write, the flags of every bind, and removals that never follow a link or delete through a
/// mount. Needs root (mounts).
/// </summary>
public sealed class PodSharesTests : IDisposable
{
    private const string Pod = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private const string Container = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    private static readonly string Layer = new('a', 64);
    private static readonly string[] Refusals = ["EROFS", "EACCES"];

    private readonly TestDirectory _dir = new();
    private readonly SandboxLayout _layout;
    private readonly PodShares _shares;
    private readonly string _host;

    public PodSharesTests()
    {
        _layout = new SandboxLayout(_dir.Root, _dir.State);
        var layers = Directory.CreateDirectory(Path.Combine(_dir.Root, "images", "layers", "sha256")).FullName;
        Directory.CreateDirectory(Path.Combine(layers, Layer, "bin"));
        File.WriteAllText(Path.Combine(layers, Layer, "bin", "app"), "layer file");
        _shares = new PodShares(_layout, layers);
        _host = Directory.CreateDirectory(Path.Combine(_dir.Path, "host")).FullName;
    }

    public void Dispose()
    {
        _shares.RemoveAsync(Pod).GetAwaiter().GetResult();
        Assert.Empty(HostMountTable.Below(_dir.Path));
        _dir.Dispose();
    }

    [Fact]
    public async Task The_share_is_the_agents_tree_read_only_nosuid_nodev_and_nothing_can_be_made_in_it()
    {
        await _shares.CreateAsync(Pod, null, CancellationToken.None);

        var share = _layout.Share(Pod);
        Assert.Equal(["ro", "nosuid", "nodev"], Options(share).Intersect(["ro", "nosuid", "nodev"]));
        Assert.Contains(Errno(() => File.WriteAllText(Path.Combine(share, "x"), "x")), Refusals);
        Assert.Contains(Errno(() => Directory.CreateDirectory(Path.Combine(share, "d"))), Refusals);
        Assert.Contains(Errno(() => File.CreateSymbolicLink(Path.Combine(share, "l"), "/etc")), Refusals);
        Assert.Empty(Directory.EnumerateFileSystemEntries(share));
    }

    [Fact]
    public async Task A_share_made_with_an_id_map_shows_every_mount_in_it_owned_through_the_map_and_the_host_keeps_its_owners()
    {
        var map = new Spherelet.Domain.Vmm.VmIdMap(3_000_000_000, 65536);
        await _shares.CreateAsync(Pod, map, CancellationToken.None);
        var data = Directory.CreateDirectory(Path.Combine(_host, "data")).FullName;
        File.WriteAllText(Path.Combine(data, "root-file"), "root's");
        File.WriteAllText(Path.Combine(data, "user-file"), "a user's");
        Chown(Path.Combine(data, "user-file"), 1000);

        var rw = (await _shares.BindVolumeAsync(Pod, Container, 0, data, BindAccess.ReadWrite, followHost: false, CancellationToken.None)).InShare;

        var share = _layout.Share(Pod);
        Assert.Equal(3_000_000_000u, Owner(share));
        Assert.Equal(3_000_000_000u, Owner(Path.Combine(share, rw, "root-file")));
        Assert.Equal(3_000_001_000u, Owner(Path.Combine(share, rw, "user-file")));
        Assert.Equal(0u, Owner(Path.Combine(data, "root-file")));
        // The host's root is not in the map: it cannot make files through the share (they would have no owner there).
        Assert.NotEqual("none", Errno(() => File.WriteAllText(Path.Combine(share, rw, "by-host-root"), "x")));
    }

    [Fact]
    public async Task In_an_id_mapped_share_a_mount_the_host_makes_later_under_a_followed_volume_appears_id_mapped_and_goes_when_the_host_unmounts_it()
    {
        // What critest's rslave spec does: a root-only directory bound by the host under the volume after the container started.
        var map = new Spherelet.Domain.Vmm.VmIdMap(3_000_000_000, 65536);
        await _shares.CreateAsync(Pod, map, CancellationToken.None);
        var volume = Directory.CreateDirectory(Path.Combine(_host, "mnt")).FullName;
        var point = Directory.CreateDirectory(Path.Combine(volume, "propagationMnt")).FullName;
        var source = Directory.CreateDirectory(Path.Combine(_host, "propagationSrcDir")).FullName;
        File.SetUnixFileMode(source, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(Path.Combine(source, "flagFile"), string.Empty);
        var bind = await _shares.BindVolumeAsync(Pod, Container, 0, volume, BindAccess.ReadWrite, followHost: true, CancellationToken.None);
        var copy = Path.Combine(_layout.Share(Pod), bind.InShare, "propagationMnt");
        Assert.False(File.Exists(Path.Combine(copy, "flagFile")));

        Mount("--bind", source, point);
        Assert.True(await EventuallyAsync(() => File.Exists(Path.Combine(copy, "flagFile"))), "the host's mount did not appear in the share");
        Assert.Equal(3_000_000_000u, Owner(copy));
        Assert.Contains("idmapped", Options(copy));
        Assert.Contains("nosuid", Options(copy));
        Assert.Equal(0u, Owner(point));

        // The host unmounts it: the copy goes too, and the host can remove the directory.
        Mount("-l", point);
        Assert.True(await EventuallyAsync(() => !HostMountTable.MountPoints().Contains(copy)), "the copy stayed after the host unmounted");
        Assert.False(File.Exists(Path.Combine(copy, "flagFile")));
        Directory.Delete(point);

        // Unbinding the container's volumes stops following: a later host mount is not copied.
        await _shares.UnbindVolumesAsync(Pod, Container);
        Directory.CreateDirectory(point);
        Mount("--bind", source, point);
        try
        {
            Assert.False(await EventuallyAsync(() => HostMountTable.MountPoints().Any(m => m.Contains(Container, StringComparison.Ordinal)), TimeSpan.FromSeconds(1)));
        }
        finally
        {
            Mount("-l", point);
        }
    }

    [Fact]
    public async Task After_an_agent_restart_the_next_agent_follows_the_host_into_the_id_mapped_volume_again()
    {
        var map = new Spherelet.Domain.Vmm.VmIdMap(3_000_000_000, 65536);
        await _shares.CreateAsync(Pod, map, CancellationToken.None);
        var volume = Directory.CreateDirectory(Path.Combine(_host, "mnt")).FullName;
        var point = Directory.CreateDirectory(Path.Combine(volume, "later")).FullName;
        var source = Directory.CreateDirectory(Path.Combine(_host, "source")).FullName;
        File.WriteAllText(Path.Combine(source, "flagFile"), string.Empty);
        var bind = await _shares.BindVolumeAsync(Pod, Container, 0, volume, BindAccess.ReadWrite, followHost: true, CancellationToken.None);
        var copy = Path.Combine(_layout.Share(Pod), bind.InShare, "later");

        // The agent stops; the host mounts while none runs; the next agent adopts the pod.
        _shares.Dispose();
        Mount("--bind", source, point);
        try
        {
            Assert.False(File.Exists(Path.Combine(copy, "flagFile")));
            using var next = new PodShares(_layout, Path.Combine(_dir.Root, "images", "layers", "sha256"));
            next.Adopt(Pod, map);

            Assert.True(await EventuallyAsync(() => File.Exists(Path.Combine(copy, "flagFile"))), "the next agent did not copy the mount made while none ran");
            Assert.Equal(3_000_000_000u, Owner(copy));
            Mount("-l", point);
            Assert.True(await EventuallyAsync(() => !HostMountTable.MountPoints().Contains(copy)), "the next agent did not follow the host's unmount");
        }
        finally
        {
            if (HostMountTable.MountPoints().Contains(point))
            {
                Mount("-l", point);
            }
        }
    }

    /// <summary>Whether <paramref name="condition"/> holds within <paramref name="patience"/> (5 s unless given); the mirror follows the host's table asynchronously.</summary>
    private static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan? patience = null)
    {
        var deadline = DateTime.UtcNow + (patience ?? TimeSpan.FromSeconds(5));
        while (DateTime.UtcNow < deadline)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(10);
        }

        return condition();
    }

    private static uint Owner(string path) =>
        uint.Parse(HostTool.Run("/usr/bin/stat", "-c", "%u", path).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private static void Chown(string path, uint id) => HostTool.Run("/usr/bin/chown", $"{id}:{id}", path);

    [Fact]
    public async Task Volumes_are_bound_nosuid_nodev_and_binds_in_the_share_stay_out_of_the_agents_tree()
    {
        await _shares.CreateAsync(Pod, null, CancellationToken.None);
        var data = Directory.CreateDirectory(Path.Combine(_host, "data")).FullName;
        var config = Path.Combine(_host, "app.conf");
        File.WriteAllText(config, "setting");

        var rw = (await _shares.BindVolumeAsync(Pod, Container, 0, data, BindAccess.ReadWrite, followHost: false, CancellationToken.None)).InShare;
        var ro = (await _shares.BindVolumeAsync(Pod, Container, 1, config, BindAccess.ReadOnly, followHost: false, CancellationToken.None)).InShare;

        Assert.Equal($"volumes/{Container}/0", rw);
        var share = _layout.Share(Pod);
        File.WriteAllText(Path.Combine(share, rw, "written"), "by the pod");
        Assert.Equal("by the pod", File.ReadAllText(Path.Combine(data, "written")));
        Assert.Equal("setting", File.ReadAllText(Path.Combine(share, ro)));
        Assert.Contains(Errno(() => File.WriteAllText(Path.Combine(share, ro), "changed")), Refusals);
        Assert.Equal(["nosuid", "nodev"], Options(Path.Combine(share, rw)).Intersect(["ro", "nosuid", "nodev"]));
        Assert.Equal(["ro", "nosuid", "nodev"], Options(Path.Combine(share, ro)).Intersect(["ro", "nosuid", "nodev"]));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_layout.Tree(Pod), rw)));
        Assert.DoesNotContain(HostMountTable.MountPoints(), m => m.StartsWith(_layout.Tree(Pod), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unbinding_a_containers_volumes_detaches_them_whatever_the_pod_planted_inside_and_leaves_the_host_files()
    {
        await _shares.CreateAsync(Pod, null, CancellationToken.None);
        var data = Directory.CreateDirectory(Path.Combine(_host, "data")).FullName;
        var secret = Directory.CreateDirectory(Path.Combine(_host, "secret")).FullName;
        File.WriteAllText(Path.Combine(secret, "key"), "host only");
        var inShare = (await _shares.BindVolumeAsync(Pod, Container, 0, data, BindAccess.ReadWrite, followHost: false, CancellationToken.None)).InShare;

        // What a hostile pod can do in its writable volume: links to host paths, directories full of them.
        var volume = Path.Combine(_layout.Share(Pod), inShare);
        File.CreateSymbolicLink(Path.Combine(volume, "escape"), secret);
        Directory.CreateDirectory(Path.Combine(volume, "deep", "er"));
        File.CreateSymbolicLink(Path.Combine(volume, "deep", "er", "key"), Path.Combine(secret, "key"));
        await _shares.UnbindVolumesAsync(Pod, Container);

        Assert.Equal("host only", File.ReadAllText(Path.Combine(secret, "key")));
        Assert.True(File.Exists(Path.Combine(data, "deep", "er", "key")) || new FileInfo(Path.Combine(data, "deep", "er", "key")).LinkTarget is not null, "the volume's own files stay");
        Assert.False(Directory.Exists(Path.Combine(_layout.Share(Pod), "volumes", Container)));
        Assert.DoesNotContain(HostMountTable.MountPoints(), m => m.Contains(Container, StringComparison.Ordinal));
        await _shares.UnbindVolumesAsync(Pod, Container); // again: nothing to do
    }

    [Theory]
    [InlineData(BindAccess.ReadOnly)]
    [InlineData(BindAccess.RecursiveReadOnly)]
    public async Task A_mount_under_a_read_only_host_path_is_bound_on_its_own_and_the_host_can_unmount_and_remove_it_while_bound(BindAccess access)
    {
        await _shares.CreateAsync(Pod, null, CancellationToken.None);
        var volume = Directory.CreateDirectory(Path.Combine(_host, "volume")).FullName;
        var tmpfs = Directory.CreateDirectory(Path.Combine(volume, "tmpfs")).FullName;
        Mount("-t", "tmpfs", "none", tmpfs);

        var bind = await _shares.BindVolumeAsync(Pod, Container, 0, volume, access, followHost: false, CancellationToken.None);

        var share = _layout.Share(Pod);
        var sub = Assert.Single(bind.Submounts);
        Assert.Equal("tmpfs", sub.PathInVolume);
        Assert.Equal($"volumes/{Container}/0.sub/0", sub.InShare);
        Assert.Contains(Errno(() => File.WriteAllText(Path.Combine(share, bind.InShare, "top"), "x")), Refusals);
        if (access == BindAccess.ReadOnly)
        {
            // Non-recursive: the mount under the read-only path stays writable.
            File.WriteAllText(Path.Combine(share, sub.InShare, "file"), "written");
            Assert.Equal("written", File.ReadAllText(Path.Combine(tmpfs, "file")));
            Assert.Equal(["nosuid", "nodev"], Options(Path.Combine(share, sub.InShare)).Intersect(["ro", "nosuid", "nodev"]));
        }
        else
        {
            Assert.Contains(Errno(() => File.WriteAllText(Path.Combine(share, sub.InShare, "file"), "x")), Refusals);
            Assert.Equal(["ro", "nosuid", "nodev"], Options(Path.Combine(share, sub.InShare)).Intersect(["ro", "nosuid", "nodev"]));
        }

        // What critest's clean-up does while the container still runs: no copy of the tmpfs sits on the
        // host path's directory, so it can be unmounted and the directory removed.
        Mount("-l", tmpfs);
        Directory.Delete(volume, recursive: true);

        await _shares.UnbindVolumesAsync(Pod, Container);
        Assert.DoesNotContain(HostMountTable.MountPoints(), m => m.Contains(Container, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(_layout.Tree(Pod), "volumes", Container)));
    }

    [Fact]
    public async Task A_host_path_that_leads_into_the_pods_directories_through_a_link_is_refused_and_nothing_is_bound()
    {
        await _shares.CreateAsync(Pod, null, CancellationToken.None);
        var link = Path.Combine(_host, "to-a-share");
        File.CreateSymbolicLink(link, _layout.Share(Pod));

        var error = await Assert.ThrowsAsync<Spherelet.Domain.Errors.InvalidRequestException>(() =>
            _shares.BindVolumeAsync(Pod, Container, 0, link, BindAccess.ReadWrite, followHost: false, CancellationToken.None));

        Assert.Contains("pod directories", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(HostMountTable.MountPoints(), m => m.Contains(Container, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Layers_are_bound_once_read_only_and_only_those_asked_for()
    {
        await _shares.CreateAsync(Pod, null, CancellationToken.None);

        await _shares.BindLayersAsync(Pod, [Layer], CancellationToken.None);
        await _shares.BindLayersAsync(Pod, [Layer, Layer], CancellationToken.None);

        var inShare = Path.Combine(_layout.Share(Pod), "layers", Layer);
        Assert.Equal("layer file", File.ReadAllText(Path.Combine(inShare, "bin", "app")));
        Assert.Single(HostMountTable.MountPoints(), m => m == inShare);
        Assert.Equal(["ro", "nosuid", "nodev"], Options(inShare).Intersect(["ro", "nosuid", "nodev"]));
        Assert.Contains(Errno(() => File.WriteAllText(Path.Combine(inShare, "bin", "app"), "changed")), Refusals);
        Assert.Equal([Layer], Directory.EnumerateDirectories(Path.Combine(_layout.Share(Pod), "layers")).Select(Path.GetFileName));
        await Assert.ThrowsAsync<ArgumentException>(() => _shares.BindLayersAsync(Pod, ["../../etc"], CancellationToken.None));
    }

    [Fact]
    public async Task Removing_a_pod_detaches_every_mount_below_it_and_deletes_links_without_following_them()
    {
        await _shares.CreateAsync(Pod, null, CancellationToken.None);
        Directory.CreateDirectory(Path.Combine(_host, "logs"));
        File.WriteAllText(Path.Combine(_host, "logs", "0.log"), "log line");
        await _shares.BindVolumeAsync(Pod, Container, 0, _host, BindAccess.ReadWrite, followHost: false, CancellationToken.None);
        await _shares.BindLayersAsync(Pod, [Layer], CancellationToken.None);
        // A link and a foreign bind below the pod directory, as a share of an older layout could hold.
        File.CreateSymbolicLink(Path.Combine(_layout.PodDirectory(Pod), "link"), _host);
        var foreign = Directory.CreateDirectory(Path.Combine(_layout.PodDirectory(Pod), "old-share", "logs")).FullName;
        MountBind(_host, foreign);

        await _shares.RemoveAsync(Pod);

        Assert.False(Directory.Exists(_layout.PodDirectory(Pod)));
        Assert.Empty(HostMountTable.Below(_dir.Path));
        Assert.Equal("log line", File.ReadAllText(Path.Combine(_host, "logs", "0.log")));
        Assert.Equal("layer file", File.ReadAllText(Path.Combine(_dir.Root, "images", "layers", "sha256", Layer, "bin", "app")));
        await _shares.RemoveAsync(Pod); // again: nothing to do
    }

    /// <summary>The mount options (field 6 of /proc/self/mountinfo) of the mount at <paramref name="mountPoint"/>, the topmost one.</summary>
    /// <summary>mount(8) with <paramref name="arguments"/>, or umount(8) for <c>-l PATH</c>.</summary>
    private static void Mount(params string[] arguments)
    {
        var program = arguments[0] == "-l" ? "umount" : "mount";
        using var process = System.Diagnostics.Process.Start(program, arguments);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }

    private static string[] Options(string mountPoint) =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Last(fields => fields[4] == mountPoint)[5]
            .Split(',');

    private static string Errno(Action action)
    {
        try
        {
            action();
            return "none";
        }
        catch (IOException e) when (e.Message.Contains("Read-only", StringComparison.Ordinal))
        {
            return "EROFS";
        }
        catch (UnauthorizedAccessException)
        {
            return "EACCES";
        }
        catch (IOException e)
        {
            return e.Message;
        }
    }

    private static void MountBind(string source, string target)
    {
        using var process = System.Diagnostics.Process.Start("mount", ["--bind", source, target]);
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
    }
}
