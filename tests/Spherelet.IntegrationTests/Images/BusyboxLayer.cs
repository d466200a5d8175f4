namespace Spherelet.IntegrationTests.Images;

/// <summary>
/// A one-layer image root built from Debian's busybox-static: <c>/bin/busybox</c> with the
/// applets the tests and benchmarks run as symlinks, <c>/root</c> and <c>/tmp</c>. One source
/// file, linked into the benchmarks too.
/// </summary>
public static class BusyboxLayer
{
    public static (byte[] Blob, string Digest, string DiffId) Build()
    {
        var layer = new TestLayer().Directory("bin").File("bin/busybox", File.ReadAllBytes("/bin/busybox"), (UnixFileMode)0b111_101_101);
        foreach (var applet in new[] { "sh", "echo", "cat", "ls", "sleep", "true" })
        {
            layer.Symlink("bin/" + applet, "busybox");
        }

        return layer.Directory("root", (UnixFileMode)0b111_000_000).Directory("tmp", (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit).Build();
    }
}
