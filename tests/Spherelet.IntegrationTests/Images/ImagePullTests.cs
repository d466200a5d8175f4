using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Images;
using Spherelet.Images.Registry;
using Spherelet.Images.Unpacking;

namespace Spherelet.IntegrationTests.Images;

/// <summary>
/// Pulling into the image store from a real registry (docker-registry on 127.0.0.1, images
/// built by the tests). Needs docker-registry and apache2-utils (scripts/test installs them)
/// and root (layers keep their owners and device nodes).
/// </summary>
public sealed class ImagePullTests : IClassFixture<TestRegistry>, IDisposable
{
    private readonly TestRegistry _registry;
    private readonly string _root = Directory.CreateTempSubdirectory("sph-images-").FullName;
    private readonly RegistryClient _client;
    private readonly ImageManager _images;

    public ImagePullTests(TestRegistry registry)
    {
        _registry = registry;
        _client = new RegistryClient(new RegistryOptions(), NullLogger<RegistryClient>.Instance);
        _images = NewManager(_client);
    }

    public void Dispose()
    {
        _client.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private ImageManager NewManager(RegistryClient client, IImageUsage? usage = null) =>
        new(_root, client, new LayerUnpacker(NullLogger<LayerUnpacker>.Instance), usage, TimeProvider.System, NullLogger<ImageManager>.Instance);

    [Fact]
    public async Task Pull_by_tag_stores_the_image_its_config_names_and_an_unpacked_layer()
    {
        var image = await _images.PullAsync(_registry.Busybox, null, CancellationToken.None);

        Assert.Equal(_registry.BusyboxId, image.Id);
        Assert.Equal([_registry.Busybox], image.RepoTags);
        Assert.Equal([$"{_registry.Server.Host}/tests/busybox@{_registry.BusyboxManifestDigest}"], image.RepoDigests);
        Assert.Equal(["/bin/sh"], image.Config.Cmd);
        Assert.Equal("/root", image.Config.WorkingDir);
        Assert.Equal("1000:1000", image.Config.User);
        Assert.Contains("GREETING=hello", image.Config.Env);
        Assert.Equal(["8080/tcp"], image.Config.ExposedPorts);
        Assert.Equal("busybox", image.Config.Labels["org.spherelet.test"]);
        var layer = _images.LayerDirectory(Assert.Single(image.Layers).Digest);
        Assert.True(File.GetUnixFileMode(Path.Combine(layer, "bin", "busybox")).HasFlag(UnixFileMode.UserExecute));
        Assert.Equal("busybox", new FileInfo(Path.Combine(layer, "bin", "sh")).LinkTarget);
        Assert.Same(image, _images.Find(image.Id));
        Assert.Equal(image.Id, _images.Find(_registry.Busybox)!.Id);
        Assert.Equal(image.Id, _images.Find(image.RepoDigests[0])!.Id);
        Assert.Equal(image.Id, _images.Find(image.Id[7..19])!.Id);
    }

    [Fact]
    public async Task Whiteouts_and_opaque_directories_are_unpacked_in_overlay_form_and_shared_layers_once()
    {
        var busybox = await _images.PullAsync(_registry.Busybox, null, CancellationToken.None);
        var layered = await _images.PullAsync(_registry.Layered, null, CancellationToken.None);

        Assert.Equal(_registry.LayeredId, layered.Id);
        Assert.Equal(4, layered.Layers.Count);
        Assert.Equal(busybox.Layers[0].Digest, layered.Layers[0].Digest);
        var change = _images.LayerDirectory(layered.Layers[2].Digest);
        Assert.True(UnpackNative.TryLstat(Path.Combine(change, "etc", "a"), out var whiteout));
        Assert.True(UnpackNative.IsCharacterDevice(whiteout));
        Assert.Equal((0u, 0u), UnpackNative.DeviceNumbers(whiteout));
        Assert.Equal("y"u8.ToArray(), UnpackNative.GetXattr(Path.Combine(change, "data"), "trusted.overlay.opaque"));
        Assert.False(File.Exists(Path.Combine(change, "data", ".wh..wh..opq")));
        Assert.Equal("new", await File.ReadAllTextAsync(Path.Combine(change, "data", "new")));
        // The image's files as a container sees them, read from the layers alone.
        var stack = layered.Layers.Select(l => _images.LayerDirectory(l.Digest)).ToList();
        Assert.Null(LayerStackReader.ReadText(stack, "/etc/a"));
        Assert.Equal("b", LayerStackReader.ReadText(stack, "/etc/b"));
        Assert.Equal("c", LayerStackReader.ReadText(stack, "/etc/c"));
        Assert.Null(LayerStackReader.ReadText(stack, "/data/old"));
        Assert.Equal("new", LayerStackReader.ReadText(stack, "/data/new"));
        // Four distinct layers: the busybox layer is unpacked once for both images.
        Assert.Equal(4, Directory.EnumerateDirectories(Path.Combine(_root, "layers", "sha256")).Count());
    }

    [Fact]
    public async Task A_manifest_list_resolves_to_the_linux_amd64_image()
    {
        var image = await _images.PullAsync(_registry.List, null, CancellationToken.None);

        Assert.Equal(_registry.BusyboxId, image.Id);
        Assert.Contains($"{_registry.Server.Host}/tests/multiarch@{_registry.ListDigest}", image.RepoDigests);
        Assert.Contains(_registry.List, image.RepoTags);
    }

    [Fact]
    public async Task Concurrent_pulls_share_one_download_and_a_second_pull_reuses_everything()
    {
        var both = await Task.WhenAll(
            _images.PullAsync(_registry.Busybox, null, CancellationToken.None),
            _images.PullAsync(_registry.Busybox, null, CancellationToken.None));
        var blobs = Directory.GetFiles(Path.Combine(_root, "blobs", "sha256")).Length;

        var again = await _images.PullAsync($"{_registry.Server.Host}/tests/busybox@{_registry.BusyboxManifestDigest}", null, CancellationToken.None);

        Assert.Equal(both[0].Id, both[1].Id);
        Assert.Equal(both[0].Id, again.Id);
        Assert.Equal(3, blobs); // manifest, config, one layer
        Assert.Equal(blobs, Directory.GetFiles(Path.Combine(_root, "blobs", "sha256")).Length);
        Assert.Empty(Directory.GetFiles(Path.Combine(_root, "tmp")));
    }

    [Fact]
    public async Task Removing_a_shared_tag_only_untags_and_the_last_name_deletes_the_image_and_its_unused_content()
    {
        await _images.PullAsync(_registry.Busybox, null, CancellationToken.None);
        var layered = await _images.PullAsync(_registry.Layered, null, CancellationToken.None);
        await _images.PullAsync(_registry.List, null, CancellationToken.None); // a second tag on the busybox image

        await _images.RemoveAsync(_registry.Busybox, CancellationToken.None);
        var untagged = _images.Find(_registry.BusyboxId)!;
        Assert.Equal([_registry.List], untagged.RepoTags);

        await _images.RemoveAsync(_registry.List, CancellationToken.None);
        Assert.Null(_images.Find(_registry.BusyboxId));
        // The busybox layer is still used by the layered image; its own blobs are gone.
        Assert.True(Directory.Exists(_images.LayerDirectory(layered.Layers[0].Digest)));
        Assert.False(File.Exists(Path.Combine(_root, "blobs", "sha256", _registry.BusyboxId[7..])));

        await _images.RemoveAsync(layered.Id, CancellationToken.None);
        await _images.RemoveAsync(layered.Id, CancellationToken.None); // idempotent
        Assert.Empty(_images.List(null));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "blobs", "sha256")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "layers", "sha256")));
    }

    [Fact]
    public async Task An_image_in_use_is_not_removed()
    {
        var images = NewManager(_client, new FixedUsage(_registry.BusyboxId));
        await images.PullAsync(_registry.Busybox, null, CancellationToken.None);

        var refused = await Assert.ThrowsAsync<ImageException>(() => images.RemoveAsync(_registry.Busybox, CancellationToken.None));

        Assert.Equal(ImageErrorKind.InUse, refused.Kind);
        Assert.NotNull(images.Find(_registry.BusyboxId));
    }

    [Fact]
    public async Task Images_survive_a_restart_of_the_store()
    {
        var image = await _images.PullAsync(_registry.Busybox, null, CancellationToken.None);

        var reopened = NewManager(_client);
        await reopened.LoadAsync(CancellationToken.None);

        var reloaded = reopened.Find(_registry.Busybox)!;
        Assert.Equal(image.Id, reloaded.Id);
        Assert.Equal(image.RepoTags, reloaded.RepoTags);
        Assert.Equal(image.RepoDigests, reloaded.RepoDigests);
        Assert.Equal(image.Layers, reloaded.Layers);
        Assert.Equal(image.Config.Cmd, reloaded.Config.Cmd);
        Assert.Equal(image.Config.Env, reloaded.Config.Env);
        Assert.Equal(image.Config.Labels, reloaded.Config.Labels);
    }

    [Fact]
    public async Task Bad_references_and_missing_images_fail_clearly_and_change_nothing()
    {
        var invalid = await Assert.ThrowsAsync<ImageException>(() => _images.PullAsync("UPPER/Case:tag", null, CancellationToken.None));
        var missing = await Assert.ThrowsAsync<ImageException>(() => _images.PullAsync($"{_registry.Server.Host}/tests/busybox:no-such-tag", null, CancellationToken.None));
        var escape = await Assert.ThrowsAsync<ImageException>(() => _images.PullAsync(_registry.Escape, null, CancellationToken.None));

        Assert.Equal(ImageErrorKind.Invalid, invalid.Kind);
        Assert.Equal(ImageErrorKind.NotFound, missing.Kind);
        Assert.Contains("no-such-tag", missing.Message, StringComparison.Ordinal);
        Assert.Equal(ImageErrorKind.Invalid, escape.Kind);
        Assert.Contains("../escaped", escape.Message, StringComparison.Ordinal);
        Assert.Empty(_images.List(null));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "layers", "sha256")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "tmp")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_root, "blobs", "sha256")));
    }

    [Fact]
    public async Task A_registry_behind_basic_auth_needs_the_credentials()
    {
        await using var locked = await RegistryServer.StartAsync(requireLogin: true);
        using (var pusher = new RegistryPusher(locked))
        {
            await pusher.PushImageAsync("private/busybox", "1", [BusyboxLayer.Build()]);
        }

        var reference = $"{locked.Host}/private/busybox:1";
        var refused = await Assert.ThrowsAsync<ImageException>(() => _images.PullAsync(reference, null, CancellationToken.None));
        var login = locked.Login!.Value;
        var image = await _images.PullAsync(reference, new RegistryCredentials(login.User, login.Password, null, null), CancellationToken.None);

        Assert.Equal(ImageErrorKind.Unauthorized, refused.Kind);
        Assert.DoesNotContain(login.Password, refused.Message, StringComparison.Ordinal);
        Assert.Equal([reference], image.RepoTags);
    }
}
