using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;

namespace Spherelet.IntegrationTests.Images;

/// <summary>An image layer a test builds: a tar written with System.Formats.Tar, gzip-compressed or not.</summary>
public sealed class TestLayer
{
    private readonly MemoryStream _tar = new();
    private readonly TarWriter _writer;

    public TestLayer()
    {
        _writer = new TarWriter(_tar, TarEntryFormat.Pax, leaveOpen: true);
    }

    public TestLayer Directory(string path, UnixFileMode mode = (UnixFileMode)0b111_101_101)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, path) { Mode = mode, ModificationTime = Epoch });
        return this;
    }

    public TestLayer File(string path, byte[] content, UnixFileMode mode = (UnixFileMode)0b110_100_100, int uid = 0, int gid = 0)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path)
        {
            Mode = mode,
            Uid = uid,
            Gid = gid,
            ModificationTime = Epoch,
            DataStream = new MemoryStream(content),
        });
        return this;
    }

    public TestLayer Text(string path, string content) => File(path, System.Text.Encoding.UTF8.GetBytes(content));

    public TestLayer Symlink(string path, string target)
    {
        _writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, path) { LinkName = target, ModificationTime = Epoch, Mode = (UnixFileMode)0b111_111_111 });
        return this;
    }

    /// <summary>Deletes <paramref name="path"/> of the layers below (an OCI whiteout, <c>.wh.NAME</c>).</summary>
    public TestLayer Whiteout(string path)
    {
        var directory = Path.GetDirectoryName(path) ?? string.Empty;
        var name = ".wh." + Path.GetFileName(path);
        return File(directory.Length == 0 ? name : $"{directory}/{name}", []);
    }

    /// <summary>Hides everything the layers below have in <paramref name="directory"/> (<c>.wh..wh..opq</c>).</summary>
    public TestLayer Opaque(string directory) => File($"{directory}/.wh..wh..opq", []);

    /// <summary>The tar, and the layer blob (gzip unless <paramref name="gzip"/> is false) with its digests.</summary>
    public (byte[] Blob, string Digest, string DiffId) Build(bool gzip = true)
    {
        _writer.Dispose();
        var tar = _tar.ToArray();
        var blob = tar;
        if (gzip)
        {
            using var compressed = new MemoryStream();
            using (var zip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                zip.Write(tar);
            }

            blob = compressed.ToArray();
        }

        return (blob, Sha256(blob), Sha256(tar));
    }

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    private static readonly DateTimeOffset Epoch = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
}
