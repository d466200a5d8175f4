using Spherelet.Images.Unpacking;

namespace Spherelet.Tests.Images;

/// <summary>Reading an image's files from its unpacked layers (no root: opaque dirs by user xattr; whiteout devices are covered as root in the integration tests).</summary>
public sealed class LayerStackReaderTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sph-stack-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Layer(string name, params (string Path, string Text)[] files)
    {
        var layer = Path.Combine(_root, name);
        Directory.CreateDirectory(layer);
        foreach (var (path, text) in files)
        {
            var full = Path.Combine(layer, path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.WriteAllText(full, text);
        }

        return layer;
    }

    [Fact]
    public void The_topmost_layer_with_the_file_wins()
    {
        var bottom = Layer("bottom", ("etc/passwd", "root:x:0:0::/:/bin/sh\n"), ("etc/group", "root:x:0:\n"));
        var top = Layer("top", ("etc/passwd", "app:x:1000:1000::/:/bin/sh\n"));

        Assert.Equal("app:x:1000:1000::/:/bin/sh\n", LayerStackReader.ReadText([bottom, top], "/etc/passwd"));
        Assert.Equal("root:x:0:\n", LayerStackReader.ReadText([bottom, top], "/etc/group"));
        Assert.Null(LayerStackReader.ReadText([bottom, top], "/etc/shadow"));
    }

    [Fact]
    public void An_opaque_directory_hides_the_lower_layers_files()
    {
        var bottom = Layer("bottom", ("etc/passwd", "root:x:0:0::/:/bin/sh\n"));
        var top = Layer("top", ("etc/hostname", "x\n"));
        Assert.True(UnpackNative.TrySetXattr(Path.Combine(top, "etc"), "user.overlay.opaque", "y"u8), "user xattrs on the test file system");

        Assert.Null(LayerStackReader.ReadText([bottom, top], "/etc/passwd"));
        Assert.Equal("x\n", LayerStackReader.ReadText([bottom, top], "/etc/hostname"));
    }

    [Fact]
    public void Symlinks_are_not_followed_out_of_the_layers()
    {
        var layer = Layer("only");
        Directory.CreateDirectory(Path.Combine(layer, "etc"));
        File.CreateSymbolicLink(Path.Combine(layer, "etc", "passwd"), "/etc/passwd");
        File.CreateSymbolicLink(Path.Combine(layer, "conf"), "/etc");

        Assert.Null(LayerStackReader.ReadText([layer], "/etc/passwd"));
        Assert.Null(LayerStackReader.ReadText([layer], "/conf/passwd"));
        Assert.Throws<ArgumentException>(() => LayerStackReader.ReadText([layer], "/etc/../../passwd"));
    }
}
