using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Images;
using Spherelet.Images.Unpacking;

namespace Spherelet.Tests.Images;

/// <summary>
/// The layer unpacker on tars built in the test, in a temporary directory; nothing here needs root
/// (owners, devices and whiteout devices are in the integration tests).
/// </summary>
public sealed class LayerUnpackerTests : IDisposable
{
    private static readonly DateTimeOffset Then = new(2020, 1, 2, 3, 4, 5, 500, TimeSpan.Zero);

    private readonly string _dir = Directory.CreateTempSubdirectory("layer-unpack-").FullName;
    private readonly LayerUnpacker _unpacker = new(NullLogger<LayerUnpacker>.Instance);

    private string Target => Path.Combine(_dir, "layer");

    private string Outside => Path.Combine(_dir, "outside");

    public LayerUnpackerTests()
    {
        Directory.CreateDirectory(Outside);
        File.WriteAllText(Path.Combine(Outside, "secret"), "secret");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Entry_with_a_parent_directory_component_is_refused_and_nothing_is_left()
    {
        var layer = Tar(FileEntry("a/../../evil", "x"));

        await AssertRefusedAsync(layer, "a/../../evil", "'..'");
        Assert.False(File.Exists(Path.Combine(_dir, "evil")));
    }

    [Fact]
    public async Task Entry_with_an_absolute_name_is_refused_and_nothing_is_left()
    {
        var evil = Path.Combine(Outside, "absolute");
        var layer = Tar(FileEntry(evil, "x"));

        await AssertRefusedAsync(layer, evil, "absolute");
        Assert.False(File.Exists(evil));
    }

    [Fact]
    public async Task File_written_through_a_symlink_to_outside_is_refused_and_nothing_is_left()
    {
        var layer = Tar(SymlinkEntry("link", Outside), FileEntry("link/evil", "x"));

        await AssertRefusedAsync(layer, "link/evil", "symlink");
        Assert.False(File.Exists(Path.Combine(Outside, "evil")));
    }

    [Fact]
    public async Task File_written_through_a_relative_symlink_that_climbs_out_is_refused_and_nothing_is_left()
    {
        var layer = Tar(SymlinkEntry("a", "../.."), FileEntry("a/b", "x"));

        await AssertRefusedAsync(layer, "a/b", "symlink");
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(_dir)!, "b")));
    }

    [Fact]
    public async Task Hard_link_to_a_parent_directory_path_is_refused_and_nothing_is_left()
    {
        var layer = Tar(HardLinkEntry("h", "../outside/secret"));

        await AssertRefusedAsync(layer, "h", "'..'");
        Assert.Equal(1UL, (ulong)Lstat(Path.Combine(Outside, "secret")).st_nlink);
    }

    [Fact]
    public async Task Hard_link_to_an_absolute_path_is_refused_and_nothing_is_left()
    {
        var layer = Tar(HardLinkEntry("h", Path.Combine(Outside, "secret")));

        await AssertRefusedAsync(layer, "h", "absolute");
        Assert.Equal(1UL, (ulong)Lstat(Path.Combine(Outside, "secret")).st_nlink);
    }

    [Fact]
    public async Task Hard_link_through_a_symlink_is_refused_and_nothing_is_left()
    {
        var layer = Tar(SymlinkEntry("d", Outside), HardLinkEntry("h", "d/secret"));

        await AssertRefusedAsync(layer, "h", "symlink");
        Assert.Equal(1UL, (ulong)Lstat(Path.Combine(Outside, "secret")).st_nlink);
    }

    [Fact]
    public async Task Hard_link_to_a_name_the_layer_does_not_have_is_refused_and_nothing_is_left()
    {
        var layer = Tar(FileEntry("a", "x"), HardLinkEntry("h", "missing"));

        await AssertRefusedAsync(layer, "h", "does not exist");
    }

    [Fact]
    public async Task Entry_with_an_empty_name_is_refused_and_nothing_is_left()
    {
        var layer = WithoutFirstName(Tar(TarEntryFormat.Ustar, new UstarTarEntry(TarEntryType.RegularFile, "x")));

        await AssertRefusedAsync(layer, "''", "empty");
    }

    [Fact]
    public async Task Regular_files_keep_their_content_modes_and_modification_times()
    {
        var layer = Tar(
            DirectoryEntry("bin/", mode: "750"),
            FileEntry("bin/tool", "#!/bin/sh\n", mode: "755"),
            FileEntry("etc/conf", "key=value\n", mode: "640"),
            DirectoryEntry("tmp/", mode: "1777"));

        var result = await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        Assert.Equal(4, result.Entries);
        Assert.Equal(20, result.Bytes);
        Assert.Equal("#!/bin/sh\n", File.ReadAllText(Path.Combine(Target, "bin/tool")));
        Assert.Equal(Octal("755"), Permissions(Path.Combine(Target, "bin/tool")));
        Assert.Equal(Octal("640"), Permissions(Path.Combine(Target, "etc/conf")));
        Assert.Equal(Octal("750"), Permissions(Path.Combine(Target, "bin")));
        Assert.Equal(Octal("1777"), Permissions(Path.Combine(Target, "tmp")));
        Assert.Equal(Octal("755"), Permissions(Path.Combine(Target, "etc")));
        Assert.Equal(Then, File.GetLastWriteTimeUtc(Path.Combine(Target, "bin/tool")));
        Assert.Equal(Then, File.GetLastWriteTimeUtc(Path.Combine(Target, "etc/conf")));
        Assert.Equal(Then, Directory.GetLastWriteTimeUtc(Path.Combine(Target, "bin")));
    }

    [Fact]
    public async Task Symlinks_keep_their_targets_as_written_even_absolute_ones()
    {
        var layer = Tar(SymlinkEntry("abs", "/etc/passwd"), SymlinkEntry("usr/rel", "../lib/x"), SymlinkEntry("up", "../../.."));

        await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        Assert.Equal("/etc/passwd", new FileInfo(Path.Combine(Target, "abs")).LinkTarget);
        Assert.Equal("../lib/x", new FileInfo(Path.Combine(Target, "usr/rel")).LinkTarget);
        Assert.Equal("../../..", new FileInfo(Path.Combine(Target, "up")).LinkTarget);
        Assert.Equal(Then.ToUnixTimeSeconds(), (long)Lstat(Path.Combine(Target, "abs")).st_mtim.tv_sec);
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("gzip")]
    [InlineData("zstd")]
    public async Task Layer_compression_is_detected_from_the_content(string compression)
    {
        var tar = Tar(FileEntry("hello.txt", "hello"), FileEntry("dir/world.txt", "world"));
        var layer = compression switch
        {
            "gzip" => Gzip(tar.ToArray()),
            "zstd" => Zstd(tar.ToArray()),
            _ => tar,
        };

        var result = await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        Assert.Equal(new LayerUnpackResult(2, 10), result);
        Assert.Equal("hello", File.ReadAllText(Path.Combine(Target, "hello.txt")));
        Assert.Equal("world", File.ReadAllText(Path.Combine(Target, "dir/world.txt")));
    }

    [Fact]
    public async Task Hard_link_shares_the_inode_of_its_target()
    {
        var layer = Tar(FileEntry("usr/bin/a", "same"), HardLinkEntry("usr/bin/b", "usr/bin/a"));

        await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        var a = Lstat(Path.Combine(Target, "usr/bin/a"));
        var b = Lstat(Path.Combine(Target, "usr/bin/b"));
        Assert.Equal((ulong)a.st_ino, (ulong)b.st_ino);
        Assert.Equal(2UL, (ulong)a.st_nlink);
    }

    [Fact]
    public async Task Pax_xattr_in_the_user_namespace_is_set()
    {
        var layer = Tar(Pax(TarEntryType.RegularFile, "f", new Dictionary<string, string> { ["SCHILY.xattr.user.spherelet"] = "hello" }));

        await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        var value = UnpackNative.GetXattr(Path.Combine(Target, "f"), "user.spherelet");
        Assert.Equal("hello", value is null ? null : Encoding.UTF8.GetString(value));
    }

    [Fact]
    public async Task Overlay_attributes_in_a_layer_are_not_set_but_its_opaque_marker_is_in_the_user_namespace_too()
    {
        var layer = Tar(
            Pax(TarEntryType.RegularFile, "forged", new Dictionary<string, string> { ["SCHILY.xattr.user.overlay.opaque"] = "y", ["SCHILY.xattr.user.overlay.redirect"] = "/etc" }),
            DirectoryEntry("real"),
            FileEntry("real/.wh..wh..opq", string.Empty));

        try
        {
            await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);
        }
        catch (ImageException e) when (Environment.UserName != "root" && e.Message.Contains("opaque", StringComparison.Ordinal))
        {
            return; // Without root, trusted.overlay.opaque cannot be set: the layer is refused (checked as root in CI).
        }

        Assert.Null(UnpackNative.GetXattr(Path.Combine(Target, "forged"), "user.overlay.opaque"));
        Assert.Null(UnpackNative.GetXattr(Path.Combine(Target, "forged"), "user.overlay.redirect"));
        Assert.Equal("y"u8.ToArray(), UnpackNative.GetXattr(Path.Combine(Target, "real"), "user.overlay.opaque"));
    }

    [Fact]
    public async Task Libarchive_base64_xattr_is_decoded_and_set()
    {
        var layer = Tar(Pax(TarEntryType.RegularFile, "f", new Dictionary<string, string> { ["LIBARCHIVE.xattr.user.b64"] = "aGk" }));

        await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        Assert.Equal("hi"u8.ToArray(), UnpackNative.GetXattr(Path.Combine(Target, "f"), "user.b64"));
    }

    [Fact]
    public async Task Truncated_gzip_layer_fails_and_leaves_nothing()
    {
        var big = new byte[256 * 1024];
        new Random(7).NextBytes(big);
        var gzip = Gzip(Tar(FileEntry("a", "a"), FileEntry("big", big)).ToArray()).ToArray();
        var layer = new MemoryStream(gzip[..(gzip.Length / 2)]);

        var error = await Assert.ThrowsAsync<ImageException>(() => _unpacker.UnpackAsync(layer, Target, CancellationToken.None));

        Assert.Equal(ImageErrorKind.Invalid, error.Kind);
        AssertNothingLeft();
    }

    [Fact]
    public async Task Later_entry_replaces_an_earlier_symlink_without_following_it()
    {
        var layer = Tar(SymlinkEntry("f", Path.Combine(Outside, "secret")), FileEntry("f", "new"));

        await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        Assert.Equal("new", File.ReadAllText(Path.Combine(Target, "f")));
        Assert.Null(new FileInfo(Path.Combine(Target, "f")).LinkTarget);
        Assert.Equal("secret", File.ReadAllText(Path.Combine(Outside, "secret")));
    }

    [Fact]
    public async Task File_replacing_a_directory_removes_it_without_following_symlinks_inside()
    {
        var layer = Tar(DirectoryEntry("d/"), SymlinkEntry("d/out", Outside), FileEntry("d", "file now"));

        await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        Assert.Equal("file now", File.ReadAllText(Path.Combine(Target, "d")));
        Assert.Equal("secret", File.ReadAllText(Path.Combine(Outside, "secret")));
    }

    [Fact]
    public async Task Whiteout_does_not_remove_what_the_same_layer_has_under_that_name()
    {
        var layer = Tar(FileEntry("etc/keep", "kept"), FileEntry("etc/.wh.keep", ""));

        await _unpacker.UnpackAsync(layer, Target, CancellationToken.None);

        Assert.Equal("kept", File.ReadAllText(Path.Combine(Target, "etc/keep")));
        Assert.False(File.Exists(Path.Combine(Target, "etc/.wh.keep")));
    }

    [Fact]
    public async Task Unpacking_into_an_existing_directory_is_refused_and_it_is_left_alone()
    {
        Directory.CreateDirectory(Target);
        File.WriteAllText(Path.Combine(Target, "mine"), "mine");

        await Assert.ThrowsAsync<IOException>(() => _unpacker.UnpackAsync(Tar(FileEntry("a", "a")), Target, CancellationToken.None));

        Assert.Equal(["mine"], Directory.GetFileSystemEntries(Target).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFileSystemEntries(_dir, "layer.tmp-*"));
    }

    [Fact]
    public async Task Cancelled_unpack_leaves_nothing()
    {
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _unpacker.UnpackAsync(Tar(FileEntry("a", "a")), Target, cancellation.Token));

        AssertNothingLeft();
    }

    private async Task AssertRefusedAsync(Stream layer, string entryName, string reason)
    {
        var error = await Assert.ThrowsAsync<ImageException>(() => _unpacker.UnpackAsync(layer, Target, CancellationToken.None));

        Assert.Equal(ImageErrorKind.Invalid, error.Kind);
        Assert.Contains(entryName.StartsWith('\'') ? entryName : $"'{entryName}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        AssertNothingLeft();
    }

    private void AssertNothingLeft()
    {
        Assert.False(Path.Exists(Target));
        Assert.Empty(Directory.GetFileSystemEntries(_dir, "layer.tmp-*"));
    }

    private static MemoryStream Tar(params TarEntry[] entries) => Tar(TarEntryFormat.Pax, entries);

    private static MemoryStream Tar(TarEntryFormat format, params TarEntry[] entries)
    {
        var stream = new MemoryStream();
        using (var writer = new TarWriter(stream, format, leaveOpen: true))
        {
            foreach (var entry in entries)
            {
                writer.WriteEntry(entry);
            }
        }

        stream.Position = 0;
        return stream;
    }

    /// <summary>Blanks the name of the first (ustar) header and fixes its checksum: TarWriter never writes an empty name.</summary>
    private static MemoryStream WithoutFirstName(MemoryStream tar)
    {
        var bytes = tar.ToArray();
        bytes.AsSpan(0, 100).Clear();
        bytes.AsSpan(148, 8).Fill((byte)' ');
        var sum = bytes.AsSpan(0, 512).ToArray().Sum(b => b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(bytes, 148);
        return new MemoryStream(bytes);
    }

    private static MemoryStream Gzip(byte[] tar)
    {
        var stream = new MemoryStream();
        using (var gzip = new GZipStream(stream, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tar);
        }

        stream.Position = 0;
        return stream;
    }

    private static MemoryStream Zstd(byte[] tar)
    {
        var stream = new MemoryStream();
        using (var zstd = new ZstdSharp.CompressionStream(stream, level: 3, leaveOpen: true))
        {
            zstd.Write(tar);
        }

        stream.Position = 0;
        return stream;
    }

    private static PaxTarEntry FileEntry(string name, string content, string mode = "644") =>
        FileEntry(name, Encoding.UTF8.GetBytes(content), mode);

    private static PaxTarEntry FileEntry(string name, byte[] content, string mode = "644") =>
        new(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(content),
            Mode = (UnixFileMode)Octal(mode),
            ModificationTime = Then,
        };

    private static PaxTarEntry DirectoryEntry(string name, string mode = "755") =>
        new(TarEntryType.Directory, name) { Mode = (UnixFileMode)Octal(mode), ModificationTime = Then };

    private static PaxTarEntry SymlinkEntry(string name, string target) =>
        new(TarEntryType.SymbolicLink, name) { LinkName = target, ModificationTime = Then };

    private static PaxTarEntry HardLinkEntry(string name, string target) =>
        new(TarEntryType.HardLink, name) { LinkName = target, ModificationTime = Then };

    private static PaxTarEntry Pax(TarEntryType type, string name, Dictionary<string, string> attributes) =>
        new(type, name, attributes) { ModificationTime = Then, DataStream = type == TarEntryType.RegularFile ? new MemoryStream() : null };

    private static int Octal(string mode) => Convert.ToInt32(mode, 8);

    private static int Permissions(string path) => UnpackNative.PermissionBits(Lstat(path));

    private static Tmds.Linux.stat Lstat(string path)
    {
        Assert.True(UnpackNative.TryLstat(path, out var status), $"'{path}' does not exist");
        return status;
    }
}
