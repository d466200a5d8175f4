using System.Text.Json.Nodes;
using Spherelet.Crx.Containers;

namespace Spherelet.Tests.Crx;

/// <summary>Mount points made in a container's root file system for a user namespace: missing ones made, links kept inside the root.</summary>
public sealed class MountPointsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sph-mountpoints-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static JsonObject Spec(params (string Destination, string Source)[] binds) => new()
    {
        ["mounts"] = new JsonArray(binds.Select(b => (JsonNode)new JsonObject { ["destination"] = b.Destination, ["type"] = "bind", ["source"] = b.Source, ["options"] = new JsonArray("rbind") }).ToArray()),
    };

    [Fact]
    public void Missing_file_and_directory_mount_points_are_made_where_the_container_will_see_them()
    {
        var rootfs = Directory.CreateDirectory(Path.Combine(_dir, "rootfs")).FullName;
        var file = Path.Combine(_dir, "hosts");
        File.WriteAllText(file, "127.0.0.1 localhost\n");
        var directory = Directory.CreateDirectory(Path.Combine(_dir, "volume")).FullName;

        MountPoints.Prepare(rootfs, Spec(("/etc/hosts", file), ("/data/deep/volume", directory)));

        Assert.True(File.Exists(Path.Combine(rootfs, "etc", "hosts")));
        Assert.True(Directory.Exists(Path.Combine(rootfs, "data", "deep", "volume")));
    }

    [Fact]
    public void A_link_in_the_image_is_resolved_inside_the_root_and_never_leads_out_of_it()
    {
        var rootfs = Directory.CreateDirectory(Path.Combine(_dir, "rootfs")).FullName;
        Directory.CreateDirectory(Path.Combine(rootfs, "real-etc"));
        var outside = Directory.CreateDirectory(Path.Combine(_dir, "outside")).FullName;
        File.CreateSymbolicLink(Path.Combine(rootfs, "etc"), "/real-etc"); // absolute: the root's own /real-etc, not the host's
        File.CreateSymbolicLink(Path.Combine(rootfs, "escape"), outside);
        var file = Path.Combine(_dir, "hosts");
        File.WriteAllText(file, "x");

        MountPoints.Prepare(rootfs, Spec(("/etc/hosts", file), ("/escape/planted", file)));

        Assert.True(File.Exists(Path.Combine(rootfs, "real-etc", "hosts")), "made where the link leads inside the root");
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.False(Directory.Exists("/real-etc"));
    }

    [Fact]
    public void A_dangling_link_is_left_alone()
    {
        var rootfs = Directory.CreateDirectory(Path.Combine(_dir, "rootfs")).FullName;
        var outside = Path.Combine(_dir, "outside");
        File.CreateSymbolicLink(Path.Combine(rootfs, "etc"), outside); // absolute: outside the root as the host sees it
        var file = Path.Combine(_dir, "hosts");
        File.WriteAllText(file, "x");

        MountPoints.Prepare(rootfs, Spec(("/etc/hosts", file)));

        Assert.False(Directory.Exists(outside), "a directory was made outside the root file system");
    }

    [Fact]
    public void Existing_mount_points_are_left_as_they_are()
    {
        var rootfs = Directory.CreateDirectory(Path.Combine(_dir, "rootfs")).FullName;
        Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
        File.WriteAllText(Path.Combine(rootfs, "etc", "hosts"), "image's own");
        var file = Path.Combine(_dir, "hosts");
        File.WriteAllText(file, "x");

        MountPoints.Prepare(rootfs, Spec(("/etc/hosts", file)));

        Assert.Equal("image's own", File.ReadAllText(Path.Combine(rootfs, "etc", "hosts")));
    }
}
