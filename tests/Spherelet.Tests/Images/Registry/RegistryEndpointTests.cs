using Spherelet.Images.Registry;

namespace Spherelet.Tests.Images.Registry;

public sealed class RegistryEndpointTests
{
    [Fact]
    public void Docker_hub_is_reached_at_its_registry_host_over_https()
    {
        var endpoint = Assert.Single(RegistryEndpoint.For("docker.io", new RegistryOptions()));

        Assert.Equal("https://registry-1.docker.io", endpoint.Display);
        Assert.False(endpoint.IsMirror);
    }

    [Theory]
    [InlineData("127.0.0.1:5000", "http://127.0.0.1:5000")]
    [InlineData("127.9.8.7", "http://127.9.8.7")]
    [InlineData("localhost:5000", "http://localhost:5000")]
    [InlineData("[::1]:5000", "http://[::1]:5000")]
    [InlineData("registry.example:5000", "https://registry.example:5000")]
    [InlineData("10.0.0.5", "https://10.0.0.5")]
    public void Loopback_registries_get_plain_http_and_others_https(string host, string expected)
    {
        Assert.Equal(expected, Assert.Single(RegistryEndpoint.For(host, new RegistryOptions())).Display);
    }

    [Fact]
    public void PlainHttp_and_SkipTlsVerify_apply_to_their_host()
    {
        var options = new RegistryOptions();
        options.Hosts["Registry.Example:5000"] = new RegistryHostOptions { PlainHttp = true };
        options.Hosts["secure.example"] = new RegistryHostOptions { SkipTlsVerify = true };

        Assert.Equal("http://registry.example:5000", Assert.Single(RegistryEndpoint.For("registry.example:5000", options)).Display);
        var secure = Assert.Single(RegistryEndpoint.For("secure.example", options));
        Assert.Equal("https://secure.example", secure.Display);
        Assert.True(secure.SkipTlsVerify);
    }

    [Fact]
    public void Mirrors_come_first_in_order_then_the_registry()
    {
        var options = new RegistryOptions();
        options.Hosts["docker.io"] = new RegistryHostOptions
        {
            Mirrors = ["mirror.example:5000", "http://cache.example/v2/", "https://prefix.example/hub", "127.0.0.1:5001"],
        };

        var endpoints = RegistryEndpoint.For("docker.io", options);

        Assert.Equal(
            ["https://mirror.example:5000", "http://cache.example", "https://prefix.example/hub", "http://127.0.0.1:5001", "https://registry-1.docker.io"],
            endpoints.Select(e => e.Display));
        Assert.Equal([true, true, true, true, false], endpoints.Select(e => e.IsMirror));
        Assert.Equal("https://prefix.example/hub/v2/library/busybox/manifests/latest", endpoints[2].Resolve("/v2/library/busybox/manifests/latest").AbsoluteUri);
    }
}
