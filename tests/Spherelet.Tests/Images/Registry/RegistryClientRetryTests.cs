using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Spherelet.Images;

namespace Spherelet.Tests.Images.Registry;

public sealed class RegistryClientRetryTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Retries_after_two_503s_then_succeeds_and_logs_each_retry_as_a_warning()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var (manifest, _, _) = TestImages.Push(registry, "app", "v1");
        registry.FailNext(2, 503);
        using var client = RegistryTestClient.Create(out var logger);

        var resolved = await client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), null, None);

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        Assert.Equal(3, registry.CountRequests("/v2/app/manifests/v1"));
        Assert.Equal(2, logger.Count(LogLevel.Warning, "registry request failed, retrying"));
    }

    [Fact]
    public async Task Honours_Retry_After_on_429()
    {
        await using var registry = await FakeRegistry.StartAsync();
        var (manifest, _, _) = TestImages.Push(registry, "app", "v1");
        registry.FailNext(1, 429, retryAfter: "1");
        using var client = RegistryTestClient.Create(out var logger);
        var watch = Stopwatch.StartNew();

        var resolved = await client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), null, None);

        Assert.Equal(manifest.Digest, resolved.ManifestDigest);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(950), $"retried after {watch.Elapsed}, not after the 1 s Retry-After");
        Assert.Contains(logger.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("delay_ms=1000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_registry_that_keeps_failing_is_Unavailable_after_MaxAttempts()
    {
        await using var registry = await FakeRegistry.StartAsync();
        TestImages.Push(registry, "app", "v1");
        registry.FailNext(10, 500);
        using var client = RegistryTestClient.Create(out _, RegistryTestClient.Options(maxAttempts: 3));

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), null, None));

        Assert.Equal(ImageErrorKind.Unavailable, error.Kind);
        Assert.Contains("HTTP 500", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, registry.CountRequests("/v2/app/manifests/v1"));
    }

    [Fact]
    public async Task An_unreachable_registry_is_Unavailable_after_retrying_connection_errors()
    {
        var port = FakeRegistry.FreePort();
        using var client = RegistryTestClient.Create(out var logger, RegistryTestClient.Options(maxAttempts: 2));

        var error = await Assert.ThrowsAsync<ImageException>(() => client.ResolveAsync(ImageReference.Parse($"127.0.0.1:{port}/app:v1"), null, None));

        Assert.Equal(ImageErrorKind.Unavailable, error.Kind);
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, logger.Count(LogLevel.Warning, "registry request failed, retrying"));
    }

    [Fact]
    public async Task Cancellation_stops_a_retry_wait()
    {
        await using var registry = await FakeRegistry.StartAsync();
        TestImages.Push(registry, "app", "v1");
        registry.FailNext(1, 503, retryAfter: "30");
        using var client = RegistryTestClient.Create(out _);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.ResolveAsync(ImageReference.Parse($"{registry.Host}/app:v1"), null, cancel.Token));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"cancellation took {watch.Elapsed}");
    }
}
