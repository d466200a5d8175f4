using System.Formats.Tar;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Images.Unpacking;

namespace Spherelet.IntegrationTests.Images;

/// <summary>
/// The layer unpacker on what only root can write: owners, device nodes, overlayfs whiteouts
/// (0:0 character devices) and the <c>trusted.overlay.opaque</c> attribute. Needs root
/// (CAP_CHOWN, CAP_MKNOD, CAP_SYS_ADMIN for trusted.* xattrs); works in a temporary directory.
/// </summary>
public sealed class LayerUnpackerRootTests : IDisposable
{
    private static readonly DateTimeOffset Then = new(2021, 6, 7, 8, 9, 10, TimeSpan.Zero);

    private readonly string _dir = Directory.CreateTempSubdirectory("layer-root-").FullName;
    private readonly LayerUnpacker _unpacker = new(NullLogger<LayerUnpacker>.Instance);

    public LayerUnpackerRootTests()
    {
        Assert.True(Environment.IsPrivilegedProcess, "these tests need root");
    }

    private string Target => Path.Combine(_dir, "layer");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Owners_of_files_directories_and_symlinks_are_kept()
    {
        var layer = Tar(
            Entry(TarEntryType.Directory, "home/user/", uid: 1000, gid: 2000),
            Entry(TarEntryType.RegularFile, "home/user/file", uid: 1000, gid: 2000),
            Entry(TarEntryType.SymbolicLink, "home/user/link", uid: 1000, gid: 2000, linkName: "/etc/passwd"));

        await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        foreach (var name in new[] { "home/user", "home/user/file", "home/user/link" })
        {
            var status = Lstat(name);
            Assert.Equal((1000u, 2000u), ((uint)status.st_uid, (uint)status.st_gid));
        }
    }

    [Fact]
    public async Task Character_device_and_fifo_are_created()
    {
        var device = Entry(TarEntryType.CharacterDevice, "dev/null", mode: "666");
        device.DeviceMajor = 1;
        device.DeviceMinor = 3;
        var layer = Tar(device, Entry(TarEntryType.Fifo, "run/pipe", mode: "620"));

        var result = await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        Assert.Equal(2, result.Entries);
        var null_ = Lstat("dev/null");
        Assert.True(UnpackNative.IsCharacterDevice(null_));
        Assert.Equal((1u, 3u), UnpackNative.DeviceNumbers(null_));
        Assert.Equal(Convert.ToInt32("666", 8), UnpackNative.PermissionBits(null_));
        var pipe = Lstat("run/pipe");
        Assert.True(UnpackNative.IsFifo(pipe));
        Assert.Equal(Convert.ToInt32("620", 8), UnpackNative.PermissionBits(pipe));
    }

    [Fact]
    public async Task Whiteout_becomes_a_0_0_character_device_with_the_hidden_name()
    {
        var layer = Tar(Entry(TarEntryType.RegularFile, "etc/.wh.gone"));

        await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        var whiteout = Lstat("etc/gone");
        Assert.True(UnpackNative.IsCharacterDevice(whiteout));
        Assert.Equal((0u, 0u), UnpackNative.DeviceNumbers(whiteout));
        Assert.False(Path.Exists(Path.Combine(Target, "etc/.wh.gone")));
    }

    [Fact]
    public async Task Opaque_marker_sets_trusted_overlay_opaque_on_its_directory()
    {
        var layer = Tar(
            Entry(TarEntryType.Directory, "etc/"),
            Entry(TarEntryType.RegularFile, "etc/.wh..wh..opq"),
            Entry(TarEntryType.RegularFile, "etc/hosts"));

        await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        var value = UnpackNative.GetXattr(Path.Combine(Target, "etc"), "trusted.overlay.opaque");
        Assert.Equal("y", value is null ? null : Encoding.ASCII.GetString(value));
        Assert.Equal(["hosts"], Directory.GetFileSystemEntries(Path.Combine(Target, "etc")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Setuid_and_setgid_bits_survive_the_change_of_owner()
    {
        var layer = Tar(
            Entry(TarEntryType.RegularFile, "bin/su", mode: "4755"),
            Entry(TarEntryType.RegularFile, "bin/tool", mode: "6750", uid: 1000, gid: 2000));

        await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        Assert.Equal(Convert.ToInt32("4755", 8), UnpackNative.PermissionBits(Lstat("bin/su")));
        var tool = Lstat("bin/tool");
        Assert.Equal(Convert.ToInt32("6750", 8), UnpackNative.PermissionBits(tool));
        Assert.Equal((1000u, 2000u), ((uint)tool.st_uid, (uint)tool.st_gid));
    }

    private Tmds.Linux.stat Lstat(string name)
    {
        Assert.True(UnpackNative.TryLstat(Path.Combine(Target, name), out var status), $"'{name}' does not exist");
        return status;
    }

    private static PaxTarEntry Entry(TarEntryType type, string name, string? mode = null, int uid = 0, int gid = 0, string? linkName = null)
    {
        var entry = new PaxTarEntry(type, name)
        {
            Mode = (UnixFileMode)Convert.ToInt32(mode ?? (type == TarEntryType.Directory ? "755" : "644"), 8),
            Uid = uid,
            Gid = gid,
            ModificationTime = Then,
        };
        if (linkName is not null)
        {
            entry.LinkName = linkName;
        }

        if (type == TarEntryType.RegularFile)
        {
            entry.DataStream = new MemoryStream("content"u8.ToArray());
        }

        return entry;
    }

    private static MemoryStream Tar(params TarEntry[] entries)
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                writer.WriteEntry(entry);
            }
        }

        stream.Position = 0;
        return stream;
    }
}
