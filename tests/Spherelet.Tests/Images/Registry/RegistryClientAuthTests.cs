using System.Text;
using Microsoft.Extensions.Time.Testing;
using Spherelet.Images;
using Spherelet.Images.Registry;

namespace Spherelet.Tests.Images.Registry;

public sealed class RegistryClientAuthTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Basic_auth_pulls_with_the_username_and_password()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.BasicAuth = ("alice", "pw-basic");
        var (manifest, _, layer) = TestImages.Push(registry, "app", "v1");
        using var client = RegistryTestClient.Create(out _);
        var credentials = new RegistryCredentials("alice", "pw-basic", null, null);
        var reference = ImageReference.Parse($"{registry.Host}/app:v1");

        var resolved = await client.ResolveAsync(reference, credentials, None);
        await using var blob = await client.OpenBlobAsync(reference, layer, credentials, None);

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:pw-basic"));
        Assert.Equal(expected, registry.Requests.Last().Authorization);
    }

    [Fact]
    public async Task Basic_auth_without_credentials_is_Unauthorized()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.BasicAuth = ("alice", "pw-basic");
        TestImages.Push(registry, "app", "v1");
        using var client = RegistryTestClient.Create(out _);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), null, None));

        Assert.Equal(ImageErrorKind.Unauthorized, error.Kind);
        Assert.Contains(registry.Host, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_credentials_are_Unauthorized_and_never_appear_in_messages_or_logs()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.BasicAuth = ("alice", "pw-basic");
        TestImages.Push(registry, "app", "v1");
        using var client = RegistryTestClient.Create(out var logger);
        var credentials = new RegistryCredentials("alice", "wrong-secret", null, null);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), credentials, None));

        Assert.Equal(ImageErrorKind.Unauthorized, error.Kind);
        var encoded = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:wrong-secret"));
        Assert.DoesNotContain("wrong-secret", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(encoded, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logger.Lines, l => l.Message.Contains("wrong-secret", StringComparison.Ordinal) || l.Message.Contains(encoded, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bearer_token_is_fetched_once_and_reused_for_later_requests()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.RequireBearer = true;
        var (manifest, _, layer) = TestImages.Push(registry, "team/app", "v1");
        using var client = RegistryTestClient.Create(out _);
        var reference = ImageReference.Parse($"{registry.Host}/team/app:v1");

        var first = await client.ResolveAsync(reference, null, None);
        var second = await client.ResolveAsync(reference, null, None);
        await using (await client.OpenBlobAsync(reference, layer, null, None))
        {
        }

        Assert.Equal(manifest.Digest, first.ManifestDigest);
        Assert.Equal(manifest.Digest, second.ManifestDigest);
        var tokenRequest = Assert.Single(registry.TokenRequests);
        Assert.StartsWith("GET ?service=fake-registry&scope=repository%3Ateam%2Fapp%3Apull", tokenRequest, StringComparison.Ordinal);
        Assert.Equal(1, registry.Requests.Count(r => r.Request.StartsWith("GET /v2/", StringComparison.Ordinal) && r.Authorization is null));
    }

    [Fact]
    public async Task Bearer_token_endpoint_gets_the_username_and_password_as_basic_auth()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.RequireBearer = true;
        registry.TokenCredentials = ("bob", "pw-token");
        var (manifest, _, _) = TestImages.Push(registry, "app", "v1");
        using var client = RegistryTestClient.Create(out _);
        var reference = ImageReference.Parse($"{registry.Host}/app:v1");

        var resolved = await client.ResolveAsync(reference, new RegistryCredentials("bob", "pw-token", null, null), None);
        var refused = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(reference, new RegistryCredentials("bob", "nope", null, null), None));

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        Assert.Equal(ImageErrorKind.Unauthorized, refused.Kind);
        Assert.DoesNotContain("nope", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Identity_token_is_exchanged_with_an_OAuth2_refresh_token_grant()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.RequireBearer = true;
        registry.RefreshToken = "refresh-123";
        var (manifest, _, _) = TestImages.Push(registry, "app", "v1");
        using var client = RegistryTestClient.Create(out var logger);

        var resolved = await client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), new RegistryCredentials(null, null, "refresh-123", null), None);

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        var tokenRequest = Assert.Single(registry.TokenRequests);
        Assert.StartsWith("POST ", tokenRequest, StringComparison.Ordinal);
        Assert.Contains("grant_type=refresh_token", tokenRequest, StringComparison.Ordinal);
        Assert.Contains("refresh_token=refresh-123", tokenRequest, StringComparison.Ordinal);
        Assert.Contains("service=fake-registry", tokenRequest, StringComparison.Ordinal);
        Assert.DoesNotContain(logger.Lines, l => l.Message.Contains("refresh-123", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Registry_token_is_sent_as_the_bearer_token_without_asking_the_token_endpoint()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.RequireBearer = true;
        registry.StaticToken = "static-bearer";
        var (manifest, _, _) = TestImages.Push(registry, "app", "v1");
        using var client = RegistryTestClient.Create(out _);

        var resolved = await client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), new RegistryCredentials(null, null, null, "static-bearer"), None);

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        Assert.Empty(registry.TokenRequests);
        Assert.Equal("Bearer static-bearer", registry.Requests.Last().Authorization);
    }

    [Fact]
    public async Task A_refused_token_is_Unauthorized()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.RequireBearer = true;
        TestImages.Push(registry, "app", "v1");
        using var client = RegistryTestClient.Create(out _);

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), new RegistryCredentials(null, null, null, "not-accepted"), None));

        Assert.Equal(ImageErrorKind.Unauthorized, error.Kind);
        Assert.DoesNotContain("not-accepted", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_token_is_fetched_again()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.RequireBearer = true;
        TestImages.Push(registry, "app", "v1");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var client = new RegistryClient(RegistryTestClient.Options(), new CapturingLogger<RegistryClient>(), null, time);
        var reference = ImageReference.Parse($"{registry.Host}/app:v1");

        await client.ResolveAsync(reference, null, None);
        time.Advance(TimeSpan.FromSeconds(290));
        await client.ResolveAsync(reference, null, None);
        Assert.Single(registry.TokenRequests);
        time.Advance(TimeSpan.FromSeconds(20));
        await client.ResolveAsync(reference, null, None);

        Assert.Equal(2, registry.TokenRequests.Count);
    }

    [Fact]
    public async Task A_cached_token_the_registry_refuses_is_replaced_by_a_fresh_one()
    {
        await using var registry = await FakeRegistry.StartAsync();
        registry.RequireBearer = true;
        var (manifest, _, _) = TestImages.Push(registry, "app", "v1");
        using var client = RegistryTestClient.Create(out _);
        var reference = ImageReference.Parse($"{registry.Host}/app:v1");

        await client.ResolveAsync(reference, null, None);
        registry.RevokeTokens();
        var resolved = await client.ResolveAsync(reference, null, None);

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        Assert.Equal(2, registry.TokenRequests.Count);
    }

    [Fact]
    public async Task A_redirect_to_another_origin_does_not_carry_the_credentials()
    {
        await using var registry = await FakeRegistry.StartAsync();
        await using var storage = await FakeRegistry.StartAsync();
        registry.BasicAuth = ("alice", "pw-basic");
        var content = Encoding.UTF8.GetBytes("layer in a blob store");
        var blob = new Descriptor(TestImages.OciLayer, Spherelet.Images.Store.Digests.Of(content), content.Length);
        registry.Redirect($"/v2/app/blobs/{blob.Digest}", $"http://{storage.Host}/bucket/layer?sig=1");
        storage.ServeRaw("/bucket/layer", content);
        using var client = RegistryTestClient.Create(out _);

        await using var stream = await client.OpenBlobAsync(ImageReference.Parse($"{registry.Host}/app:v1"), blob, new RegistryCredentials("alice", "pw-basic", null, null), None);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        Assert.Equal(content, copy.ToArray());
        Assert.NotNull(registry.Requests.Last().Authorization);
        var fetched = Assert.Single(storage.Requests);
        Assert.Null(fetched.Authorization);
    }
}
