using System.Text;
using Microsoft.Extensions.Logging;
using Spherelet.Images;
using Spherelet.Images.Registry;
using Spherelet.Images.Store;

namespace Spherelet.Tests.Images.Registry;

public sealed class RegistryClientPullTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Theory]
    [InlineData(TestImages.OciManifest)]
    [InlineData(TestImages.DockerManifest)]
    public async Task Resolves_a_manifest_by_tag_anonymously(string mediaType)
    {
        await using var registry = await FakeRegistry.StartAsync();
        var (manifest, config, layer) = TestImages.Push(registry, "team/app", "v1", mediaType);
        using var client = RegistryTestClient.Create(out var logger);

        var resolved = await client.ResolveAsync(ImageReference.Parse($"{registry.Host}/team/app:v1"), null, None);

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        Assert.Equal(mediaType, resolved.MediaType);
        Assert.Equal(manifest.Digest, Digests.Of(resolved.ManifestBytes));
        Assert.Equal(config, resolved.Config);
        Assert.Equal([layer], resolved.Layers);
        Assert.Null(resolved.IndexDigest);
        var line = Assert.Single(logger.Lines, l => l.Message.StartsWith("manifest resolved", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Debug, line.Level);
        Assert.Contains(manifest.Digest, line.Message, StringComparison.Ordinal);
        Assert.Contains($"endpoint=http://{registry.Host}", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolves_a_manifest_by_digest()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var (manifest, _, layer) = TestImages.Push(registry, "app", tag: null);
        using var client = RegistryTestClient.Create(out _);

        var resolved = await client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app@{manifest.Digest}"), null, None);

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        Assert.Equal([layer], resolved.Layers);
        Assert.Equal(1, registry.CountRequests($"/v2/app/manifests/{manifest.Digest}"));
    }

    [Theory]
    [InlineData(TestImages.OciIndex, TestImages.OciManifest)]
    [InlineData(TestImages.DockerManifestList, TestImages.DockerManifest)]
    public async Task Resolves_an_index_to_its_linux_amd64_manifest(string indexType, string manifestType)
    {
        await using var registry = await FakeRegistry.StartAsync();
        var arm = TestImages.Push(registry, "app", null, manifestType, "arm64 layer").Manifest;
        var amd = TestImages.Push(registry, "app", null, manifestType, "amd64 layer");
        var attestation = TestImages.Push(registry, "app", null, TestImages.OciManifest, "attestation").Manifest;
        var index = registry.AddManifest("app", "v1", TestImages.Index(indexType, (arm, "linux", "arm64"), (amd.Manifest, "linux", "amd64"), (attestation, "unknown", "unknown")), indexType);
        using var client = RegistryTestClient.Create(out _);

        var resolved = await client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), null, None);

        Assert.Equal(amd.Manifest.Digest, resolved.ManifestDigest);
        Assert.Equal(manifestType, resolved.MediaType);
        Assert.Equal(index.Digest, resolved.IndexDigest);
        Assert.Equal([amd.Layer], resolved.Layers);
    }

    [Fact]
    public async Task An_index_without_linux_amd64_is_NotFound()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var arm = TestImages.Push(registry, "app", null).Manifest;
        var windows = TestImages.Push(registry, "app", null, layerText: "windows").Manifest;
        registry.AddManifest("app", "v1", TestImages.Index(TestImages.OciIndex, (arm, "linux", "arm64"), (windows, "windows", "amd64")), TestImages.OciIndex);
        using var client = RegistryTestClient.Create(out _);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), null, None));

        Assert.Equal(ImageErrorKind.NotFound, error.Kind);
        Assert.StartsWith($"no linux/amd64 image in {registry.Host}/app:v1", error.Message, StringComparison.Ordinal);
        Assert.Contains("linux/arm64, windows/amd64", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_tag_is_NotFound_and_names_the_reference()
    {
        await using var registry = await FakeRegistry.StartAsync();
        TestImages.Push(registry, "app", "v1");
        using var client = RegistryTestClient.Create(out _);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v2"), null, None));

        Assert.Equal(ImageErrorKind.NotFound, error.Kind);
        Assert.Contains($"{registry.Host}/app:v2", error.Message, StringComparison.Ordinal);
        Assert.Contains("MANIFEST_UNKNOWN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_whose_bytes_do_not_match_the_requested_digest_is_DigestMismatch()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var (manifest, _, _) = TestImages.Push(registry, "app", null);
        var other = TestImages.ImageManifest(TestImages.OciManifest, new Descriptor(TestImages.OciConfig, manifest.Digest, 1));
        registry.ServeManifest("app", manifest.Digest, new ServedManifest(other, TestImages.OciManifest, manifest.Digest));
        using var client = RegistryTestClient.Create(out _);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app@{manifest.Digest}"), null, None));

        Assert.Equal(ImageErrorKind.DigestMismatch, error.Kind);
        Assert.Contains($"expected {manifest.Digest}, got {Digests.Of(other)}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_manifest_whose_bytes_do_not_match_Docker_Content_Digest_is_DigestMismatch()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var (manifest, config, _) = TestImages.Push(registry, "app", null);
        var tampered = TestImages.ImageManifest(TestImages.OciManifest, config);
        registry.ServeManifest("app", "v1", new ServedManifest(tampered, TestImages.OciManifest, manifest.Digest));
        using var client = RegistryTestClient.Create(out _);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), null, None));

        Assert.Equal(ImageErrorKind.DigestMismatch, error.Kind);
        Assert.Contains($"expected {manifest.Digest}, got {Digests.Of(tampered)}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_index_entry_whose_manifest_does_not_match_its_digest_is_DigestMismatch()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var (manifest, config, _) = TestImages.Push(registry, "app", null);
        registry.ServeManifest("app", manifest.Digest, new ServedManifest(TestImages.ImageManifest(TestImages.OciManifest, config), TestImages.OciManifest, null));
        registry.AddManifest("app", "v1", TestImages.Index(TestImages.OciIndex, (manifest, "linux", "amd64")), TestImages.OciIndex);
        using var client = RegistryTestClient.Create(out _);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), null, None));

        Assert.Equal(ImageErrorKind.DigestMismatch, error.Kind);
    }

    [Fact]
    public async Task A_schema_1_manifest_is_Invalid()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var schema1 = Encoding.UTF8.GetBytes("""{"schemaVersion":1,"name":"app","tag":"v1","fsLayers":[]}""");
        registry.AddManifest("app", "v1", schema1, "application/vnd.docker.distribution.manifest.v1+prettyjws");
        using var client = RegistryTestClient.Create(out _);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), null, None));

        Assert.Equal(ImageErrorKind.Invalid, error.Kind);
        Assert.Contains("schema 1 manifests are not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenBlobAsync_streams_the_blob_bytes()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var content = new byte[300_000];
        new Random(42).NextBytes(content);
        var blob = registry.AddBlob("team/app", content, TestImages.OciLayer);
        using var client = RegistryTestClient.Create(out var logger);

        await using var stream = await client.OpenBlobAsync(ImageReference.Parse($"{registry.Host}/team/app:v1"), blob, null, None);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        Assert.Equal(content, copy.ToArray());
        var line = Assert.Single(logger.Lines, l => l.Message.StartsWith("blob opened", StringComparison.Ordinal));
        Assert.Equal(LogLevel.Debug, line.Level);
        Assert.Contains(blob.Digest, line.Message, StringComparison.Ordinal);
        Assert.Contains("size=300000", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenBlobAsync_follows_a_redirect_to_another_path()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var content = Encoding.UTF8.GetBytes("redirected layer");
        var blob = new Descriptor(TestImages.OciLayer, Digests.Of(content), content.Length);
        registry.Redirect($"/v2/app/blobs/{blob.Digest}", $"http://{registry.Host}/storage/{Digests.Hex(blob.Digest)}?signature=abc");
        registry.ServeRaw($"/storage/{Digests.Hex(blob.Digest)}", content);
        using var client = RegistryTestClient.Create(out _);

        await using var stream = await client.OpenBlobAsync(ImageReference.Parse($"{registry.Host}/app:v1"), blob, null, None);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        Assert.Equal(content, copy.ToArray());
        Assert.Equal(1, registry.CountRequests("/storage/"));
    }

    [Fact]
    public async Task OpenBlobAsync_for_a_missing_blob_is_NotFound()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var blob = new Descriptor(TestImages.OciLayer, Digests.Of("nothing"u8), 7);
        using var client = RegistryTestClient.Create(out _);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.OpenBlobAsync(ImageReference.Parse($"{registry.Host}/app:v1"), blob, null, None));

        Assert.Equal(ImageErrorKind.NotFound, error.Kind);
        Assert.Contains(blob.Digest, error.Message, StringComparison.Ordinal);
        Assert.Contains("BLOB_UNKNOWN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OpenBlobAsync_fails_when_the_registry_announces_another_size_than_the_descriptor()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var blob = registry.AddBlob("app", "twelve bytes"u8.ToArray());
        using var client = RegistryTestClient.Create(out _);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.OpenBlobAsync(ImageReference.Parse($"{registry.Host}/app:v1"), blob with { Size = 13 }, null, None));

        Assert.Equal(ImageErrorKind.DigestMismatch, error.Kind);
    }

    [Fact]
    public async Task OpenBlobAsync_rejects_a_digest_that_is_not_sha256()
    {
        using var client = RegistryTestClient.Create(out _);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.OpenBlobAsync(ImageReference.Parse("127.0.0.1:1/app"), new Descriptor(TestImages.OciLayer, "sha256:xyz", 1), null, None));

        Assert.Equal(ImageErrorKind.Invalid, error.Kind);
    }
}
