using System.Net;

namespace Spherelet.Images.Registry;

/// <summary>One place a registry request may go: a configured mirror, or the registry host itself.</summary>
/// <param name="BaseUri">Scheme, authority and an optional path prefix; request paths (<c>/v2/...</c>) are appended.</param>
/// <param name="TrustedWithCredentials">A mirror the operator lets see the registry's pull credentials (<see cref="RegistryHostOptions.SendCredentialsToMirrors"/>).</param>
internal sealed record RegistryEndpoint(Uri BaseUri, bool IsMirror, bool SkipTlsVerify, bool TrustedWithCredentials = false)
{
    /// <summary>The host that serves Docker Hub's registry API.</summary>
    public const string DockerHubHost = "registry-1.docker.io";

    /// <summary>How logs and messages name the endpoint: scheme, authority and path prefix, never credentials.</summary>
    public string Display => BaseUri.GetLeftPart(UriPartial.Path).TrimEnd('/');

    public Uri Resolve(string path) => new(Display + path, UriKind.Absolute);

    /// <summary>The endpoints for a registry host, in the order to try them: its mirrors, then the host.</summary>
    public static IReadOnlyList<RegistryEndpoint> For(string registry, RegistryOptions options)
    {
        var upstream = registry == ImageReference.DefaultRegistry ? DockerHubHost : registry;
        var host = HostOptions(options, registry) ?? HostOptions(options, upstream);
        var endpoints = new List<RegistryEndpoint>();
        foreach (var mirror in host?.Mirrors ?? [])
        {
            endpoints.Add((ParseMirror(mirror, options, out var error) ?? throw new ImageException(ImageErrorKind.Invalid, error!))
                with { TrustedWithCredentials = host!.SendCredentialsToMirrors });
        }

        var plain = host?.PlainHttp == true || IsLoopback(HostOf(upstream));
        endpoints.Add(new RegistryEndpoint(new Uri($"{(plain ? "http" : "https")}://{upstream}"), false, host?.SkipTlsVerify == true));
        return endpoints;
    }

    /// <summary>Reads a mirror setting: <c>host[:port]</c> or an <c>http(s)://host[:port][/prefix]</c> URL (a trailing <c>/v2</c> is dropped).</summary>
    /// <returns>The endpoint, or null with <paramref name="error"/> saying why the setting is wrong.</returns>
    public static RegistryEndpoint? ParseMirror(string? mirror, RegistryOptions options, out string? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(mirror))
        {
            error = "a mirror is empty";
            return null;
        }

        if (!mirror.Contains("://", StringComparison.Ordinal))
        {
            if (!ReferenceGrammar.Domain().IsMatch(mirror))
            {
                error = $"mirror '{mirror}' is neither host[:port] nor an http(s) URL";
                return null;
            }

            var own = HostOptions(options, mirror);
            var plain = own?.PlainHttp == true || IsLoopback(HostOf(mirror));
            return new RegistryEndpoint(new Uri($"{(plain ? "http" : "https")}://{mirror}"), true, own?.SkipTlsVerify == true);
        }

        if (!Uri.TryCreate(mirror, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            error = $"mirror '{Redacted(mirror)}' is not an http or https URL";
            return null;
        }

        if (uri.UserInfo.Length > 0)
        {
            error = $"mirror '{Redacted(mirror)}' must not carry credentials in its URL";
            return null;
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            error = $"mirror '{mirror}' must not have a query or fragment";
            return null;
        }

        var prefix = uri.AbsolutePath.TrimEnd('/');
        if (prefix.EndsWith("/v2", StringComparison.Ordinal))
        {
            prefix = prefix[..^3];
        }

        var skip = HostOptions(options, uri.Authority)?.SkipTlsVerify == true;
        return new RegistryEndpoint(new Uri($"{uri.Scheme}://{uri.Authority}{prefix}"), true, skip);
    }

    /// <summary>True for localhost and loopback addresses (127.0.0.0/8, ::1), which Docker lets speak plain HTTP.</summary>
    public static bool IsLoopback(string host) =>
        string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
        || IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);

    /// <summary>The host of <c>host[:port]</c> or <c>[v6]:port</c>.</summary>
    public static string HostOf(string authority)
    {
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']', StringComparison.Ordinal);
            return close < 0 ? authority : authority[..(close + 1)];
        }

        var colon = authority.LastIndexOf(':');
        return colon < 0 ? authority : authority[..colon];
    }

    /// <summary>
    /// The credentials to offer <paramref name="endpoint"/> for an image of <paramref name="registry"/>: those
    /// whose <see cref="RegistryCredentials.ServerAddress"/> names that endpoint's host, or, with none named,
    /// the registry itself and the mirrors trusted with them; null (anonymous) elsewhere.
    /// </summary>
    public static RegistryCredentials? CredentialsFor(RegistryEndpoint endpoint, string registry, RegistryCredentials? credentials)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (credentials is null)
        {
            return null;
        }

        if (credentials.ServerAddress is { Length: > 0 } server)
        {
            var named = NormalizeServer(server);
            var target = endpoint.IsMirror ? endpoint.BaseUri.Authority.ToLowerInvariant() : NormalizeServer(registry);
            return named == target ? credentials : null;
        }

        return !endpoint.IsMirror || endpoint.TrustedWithCredentials ? credentials : null;
    }

    /// <summary>
    /// A registry as CRI's <c>server_address</c> or an image name gives it, reduced to <c>host[:port]</c> in lower
    /// case: scheme and path dropped, Docker Hub's aliases (<c>index.docker.io</c>, <c>registry-1.docker.io</c>) as <c>docker.io</c>.
    /// </summary>
    public static string NormalizeServer(string server)
    {
        ArgumentNullException.ThrowIfNull(server);
        var value = server.Trim();
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            value = value[(scheme + 3)..];
        }

        var slash = value.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            value = value[..slash];
        }

        value = value.ToLowerInvariant();
        return value is "index.docker.io" or DockerHubHost ? ImageReference.DefaultRegistry : value;
    }

    private static RegistryHostOptions? HostOptions(RegistryOptions options, string host) =>
        options.Hosts.TryGetValue(host, out var value) ? value : null;

    private static string Redacted(string url)
    {
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        var at = url.LastIndexOf('@');
        return scheme >= 0 && at > scheme ? string.Concat(url.AsSpan(0, scheme + 3), "***", url.AsSpan(at)) : url;
    }
}
