using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Images;
using Spherelet.Images.Registry;
using Spherelet.Images.Unpacking;
using Spherelet.Tests.Images.Registry;

namespace Spherelet.Tests.Images;

/// <summary>The image manager against a small fake registry (no root, loopback only): verification and rollback of pulls.</summary>
public sealed class ImageManagerTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("sph-imgmgr-").FullName;
    private FakeRegistry _registry = null!;
    private RegistryClient _client = null!;
    private ImageManager _images = null!;

    public async Task InitializeAsync()
    {
        _registry = await FakeRegistry.StartAsync();
        _client = new RegistryClient(RegistryTestClient.Options(maxAttempts: 1), NullLogger<RegistryClient>.Instance);
        _images = new ImageManager(_root, _client, new LayerUnpacker(NullLogger<LayerUnpacker>.Instance), null, TimeProvider.System, NullLogger<ImageManager>.Instance);
    }

    public async Task DisposeAsync()
    {
        _images.Dispose();
        _client.Dispose();
        await _registry.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    private (Descriptor Config, Descriptor Layer) Push(string repository, string tag, byte[] layerBlob)
    {
        var config = _registry.AddBlob(repository, Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","config":{"Cmd":["/app"]}}"""), TestImages.OciConfig);
        var layer = _registry.AddBlob(repository, layerBlob, TestImages.OciLayer);
        _registry.AddManifest(repository, tag, TestImages.ImageManifest(TestImages.OciManifest, config, layer), TestImages.OciManifest);
        return (config, layer);
    }

    [Fact]
    public async Task A_pull_stores_config_and_layer_and_unpacks_the_layer()
    {
        var (config, layer) = Push("app", "1", Layer(("app", "#!/bin/sh\n")));

        var image = await _images.PullAsync($"{_registry.Host}/app:1", null, CancellationToken.None);

        Assert.Equal(config.Digest, image.Id);
        Assert.Equal(["/app"], image.Config.Cmd);
        Assert.Equal("#!/bin/sh\n", await File.ReadAllTextAsync(Path.Combine(_images.LayerDirectory(layer.Digest), "app")));
    }

    [Fact]
    public async Task A_blob_whose_bytes_do_not_match_its_digest_fails_the_pull_and_leaves_the_store_as_it_was()
    {
        var good = Layer(("app", "real"));
        var (_, layer) = Push("app", "2", good);
        // The registry answers the layer with other bytes of the same length.
        var forged = Layer(("app", "fake"));
        Assert.Equal(good.Length, forged.Length);
        _registry.ServeRaw("/elsewhere/forged", forged);
        _registry.Redirect($"/v2/app/blobs/{layer.Digest}", "/elsewhere/forged");

        var failure = await Assert.ThrowsAsync<ImageException>(() => _images.PullAsync($"{_registry.Host}/app:2", null, CancellationToken.None));

        Assert.Equal(ImageErrorKind.DigestMismatch, failure.Kind);
        Assert.Contains(layer.Digest, failure.Message, StringComparison.Ordinal);
        Assert.Empty(_images.List(null));
        Assert.False(Directory.Exists(_images.LayerDirectory(layer.Digest)));
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "tmp")));
        Assert.False(File.Exists(Path.Combine(_root, "blobs", "sha256", layer.Digest[7..])));
    }

    [Fact]
    public async Task A_refused_layer_fails_the_pull_and_its_verified_blobs_are_removed_with_it()
    {
        Push("app", "3", Layer(("../escape", "x")));

        var failure = await Assert.ThrowsAsync<ImageException>(() => _images.PullAsync($"{_registry.Host}/app:3", null, CancellationToken.None));

        Assert.Equal(ImageErrorKind.Invalid, failure.Kind);
        Assert.Contains("../escape", failure.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "blobs", "sha256")));
        Assert.Empty(Directory.GetDirectories(Path.Combine(_root, "layers", "sha256")));
        Assert.Empty(_images.List(null));
    }

    private static byte[] Layer(params (string Name, string Text)[] files)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (name, text) in files)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    Mode = (UnixFileMode)0b111_101_101,
                    ModificationTime = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero),
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)),
                });
            }
        }

        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.NoCompression, leaveOpen: true))
        {
            gzip.Write(tar.ToArray());
        }

        return compressed.ToArray();
    }
}
