using Spherelet.Images;
using Spherelet.Images.Registry;

namespace Spherelet.Tests.Images.Registry;

public sealed class RegistryClientMirrorTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task A_mirror_that_is_down_falls_back_to_the_upstream()
    {
        await using var upstream = await FakeRegistry.StartAsync();
        var (manifest, _, _) = TestImages.Push(upstream, "app", "v1");
        var options = RegistryTestClient.Options();
        options.Hosts[upstream.Host] = new RegistryHostOptions { Mirrors = [$"127.0.0.1:{FakeRegistry.FreePort()}"] };
        using var client = RegistryTestClient.Create(out var logger, options);

        var resolved = await client.ResolveAsync(ImageReference.Parse($"{upstream.Host}/app:v1"), null, None);

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        Assert.Contains(logger.Lines, l => l.Message.StartsWith("registry mirror failed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_mirror_without_the_manifest_falls_back_to_the_upstream()
    {
        await using var upstream = await FakeRegistry.StartAsync();
        await using var mirror = await FakeRegistry.StartAsync();
        var (manifest, _, layer) = TestImages.Push(upstream, "app", "v1");
        var options = RegistryTestClient.Options();
        options.Hosts[upstream.Host] = new RegistryHostOptions { Mirrors = [$"http://{mirror.Host}/"] };
        using var client = RegistryTestClient.Create(out _, options);
        var reference = ImageReference.Parse($"{upstream.Host}/app:v1");

        var resolved = await client.ResolveAsync(reference, null, None);
        await using var blob = await client.OpenBlobAsync(reference, layer, null, None);

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        Assert.Equal(1, mirror.CountRequests("/v2/app/manifests/v1"));
        Assert.Equal(1, mirror.CountRequests($"/v2/app/blobs/{layer.Digest}"));
    }

    [Fact]
    public async Task A_mirror_that_answers_5xx_falls_back_to_the_upstream()
    {
        await using var upstream = await FakeRegistry.StartAsync();
        await using var mirror = await FakeRegistry.StartAsync();
        var (manifest, _, _) = TestImages.Push(upstream, "app", "v1");
        mirror.FailNext(100, 502);
        var options = RegistryTestClient.Options(maxAttempts: 2);
        options.Hosts[upstream.Host] = new RegistryHostOptions { Mirrors = [mirror.Host] };
        using var client = RegistryTestClient.Create(out _, options);

        var resolved = await client.ResolveAsync(ImageReference.Parse($"{upstream.Host}/app:v1"), null, None);

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        Assert.Equal(2, mirror.CountRequests("/v2/app/manifests/v1"));
    }

    [Fact]
    public async Task A_working_mirror_serves_the_pull_and_the_upstream_is_not_asked()
    {
        await using var upstream = await FakeRegistry.StartAsync();
        await using var mirror = await FakeRegistry.StartAsync();
        var (manifest, _, _) = TestImages.Push(mirror, "app", "v1");
        var options = RegistryTestClient.Options();
        options.Hosts[upstream.Host] = new RegistryHostOptions { Mirrors = [mirror.Host] };
        using var client = RegistryTestClient.Create(out var logger, options);

        var resolved = await client.ResolveAsync(ImageReference.Parse($"{upstream.Host}/app:v1"), null, None);

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        Assert.Empty(upstream.Requests);
        Assert.Contains(logger.Lines, l => l.Message.Contains($"endpoint=http://{mirror.Host}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unauthorized_from_the_upstream_is_final()
    {
        await using var upstream = await FakeRegistry.StartAsync();
        await using var mirror = await FakeRegistry.StartAsync();
        upstream.BasicAuth = ("alice", "pw");
        TestImages.Push(upstream, "app", "v1");
        var options = RegistryTestClient.Options();
        options.Hosts[upstream.Host] = new RegistryHostOptions { Mirrors = [mirror.Host] };
        using var client = RegistryTestClient.Create(out _, options);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(ImageReference.Parse($"{upstream.Host}/app:v1"), null, None));

        Assert.Equal(ImageErrorKind.Unauthorized, error.Kind);
    }

    [Fact]
    public async Task A_mirror_is_not_offered_the_registrys_credentials_unless_configured_so()
    {
        await using var upstream = await FakeRegistry.StartAsync();
        await using var mirror = await FakeRegistry.StartAsync();
        upstream.BasicAuth = ("alice", "pw");
        mirror.BasicAuth = ("alice", "pw");
        TestImages.Push(upstream, "app", "v1");
        TestImages.Push(mirror, "app", "v1");
        var credentials = new RegistryCredentials("alice", "pw", null, null);
        var reference = ImageReference.Parse($"{upstream.Host}/app:v1");

        var options = RegistryTestClient.Options();
        options.Hosts[upstream.Host] = new RegistryHostOptions { Mirrors = [mirror.Host] };
        using (var client = RegistryTestClient.Create(out _, options))
        {
            await client.ResolveAsync(reference, credentials, None);
        }

        Assert.All(mirror.Requests, r => Assert.Null(r.Authorization));
        Assert.Contains(upstream.Requests, r => r.Authorization is { } a && a.StartsWith("Basic ", StringComparison.Ordinal));

        options.Hosts[upstream.Host] = new RegistryHostOptions { Mirrors = [mirror.Host], SendCredentialsToMirrors = true };
        var upstreamRequests = upstream.Requests.Count;
        using (var client = RegistryTestClient.Create(out _, options))
        {
            await client.ResolveAsync(reference, credentials, None);
        }

        Assert.Contains(mirror.Requests, r => r.Authorization is { } a && a.StartsWith("Basic ", StringComparison.Ordinal));
        Assert.Equal(upstreamRequests, upstream.Requests.Count);
    }

    [Fact]
    public async Task Credentials_for_another_server_are_not_offered_and_those_naming_the_registry_are()
    {
        await using var upstream = await FakeRegistry.StartAsync();
        upstream.BasicAuth = ("alice", "pw");
        TestImages.Push(upstream, "app", "v1");
        using var client = RegistryTestClient.Create(out _, RegistryTestClient.Options());
        var reference = ImageReference.Parse($"{upstream.Host}/app:v1");

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(reference, new RegistryCredentials("alice", "pw", null, null, "https://other.example:5000/v1/"), None));
        Assert.Equal(ImageErrorKind.Unauthorized, error.Kind);
        Assert.All(upstream.Requests, r => Assert.Null(r.Authorization));

        await client.ResolveAsync(reference, new RegistryCredentials("alice", "pw", null, null, $"http://{upstream.Host}"), None);
        Assert.Contains(upstream.Requests, r => r.Authorization is { } a && a.StartsWith("Basic ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://index.docker.io/v1/", "docker.io")]
    [InlineData("registry-1.docker.io", "docker.io")]
    [InlineData("Registry.Example:5000", "registry.example:5000")]
    [InlineData("http://10.0.0.5:5000/path", "10.0.0.5:5000")]
    public void A_server_address_is_reduced_to_its_host_as_images_name_registries(string server, string host) =>
        Assert.Equal(host, RegistryEndpoint.NormalizeServer(server));
}
