using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Spherelet.Images.Registry;

/// <summary>
/// Answers registry auth challenges: Basic with the username and password; Bearer with a token from the
/// challenge's realm (anonymous, basic auth, or an OAuth2 refresh-token grant with the identity token), or the
/// registry token as it is. Tokens are cached per realm, service, scope and credentials until they expire; the
/// last challenge of each endpoint is remembered so later requests carry a cached token from the start.
/// Secrets never reach a log line or an exception message.
/// </summary>
internal sealed partial class RegistryAuthenticator
{
    /// <summary>The lifetime of a token whose response gives no (or a shorter) <c>expires_in</c>, as the token spec says.</summary>
    public static readonly TimeSpan DefaultTokenLifetime = TimeSpan.FromSeconds(60);

    private const int MaxTokenResponseBytes = 1 << 20;
    private const string ClientId = "spherelet";
    private static readonly TimeSpan ExpiryMargin = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, AuthChallenge> _challenges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<TokenCacheKey, CachedToken> _tokens = new();
    private readonly RegistryOptions _options;
    private readonly RegistryHttp _http;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    public RegistryAuthenticator(RegistryOptions options, RegistryHttp http, ILogger logger, TimeProvider time)
    {
        _options = options;
        _http = http;
        _logger = logger;
        _time = time;
    }

    /// <summary>The Authorization to send before any challenge: for an endpoint that challenged before, what answered it, when still valid.</summary>
    public AuthenticationHeaderValue? Cached(RegistryEndpoint endpoint, string scope, RegistryCredentials? credentials)
    {
        if (!_challenges.TryGetValue(endpoint.Display, out var challenge))
        {
            return null;
        }

        if (challenge.IsBasic)
        {
            return credentials?.Username is not null ? Basic(credentials) : null;
        }

        if (!challenge.IsBearer)
        {
            return null;
        }

        if (credentials?.RegistryToken is { } registryToken)
        {
            return new AuthenticationHeaderValue("Bearer", registryToken);
        }

        return challenge.Realm is { } realm
            && _tokens.TryGetValue(Key(realm, challenge.Service, scope, credentials), out var cached)
            && cached.ExpiresAt > _time.GetUtcNow()
            ? new AuthenticationHeaderValue("Bearer", cached.Token)
            : null;
    }

    /// <summary>Answers a challenge; <paramref name="refresh"/> skips a cached token (the one sent was refused).</summary>
    /// <param name="what">Names the image in error messages.</param>
    /// <exception cref="ImageException">Unauthorized: no credentials for Basic, an unknown scheme, or the token endpoint refused; Unavailable: the token endpoint failed.</exception>
    public async Task<AuthenticationHeaderValue> AuthorizeAsync(
        RegistryEndpoint endpoint,
        AuthChallenge challenge,
        string scope,
        RegistryCredentials? credentials,
        bool refresh,
        string what,
        CancellationToken cancellationToken)
    {
        _challenges[endpoint.Display] = challenge;
        if (challenge.IsBasic)
        {
            return credentials?.Username is not null
                ? Basic(credentials)
                : throw new ImageException(ImageErrorKind.Unauthorized, $"{endpoint.Display} requires a username and password to pull {what}, and none were given");
        }

        if (!challenge.IsBearer)
        {
            throw new ImageException(ImageErrorKind.Unauthorized, $"{endpoint.Display} asks for '{challenge.Scheme}' authentication to pull {what}, which is not supported (Basic and Bearer are)");
        }

        if (credentials?.RegistryToken is { } registryToken)
        {
            return new AuthenticationHeaderValue("Bearer", registryToken);
        }

        if (challenge.Realm is not { } realmText || !Uri.TryCreate(realmText, UriKind.Absolute, out var realm) || realm.Scheme is not ("http" or "https"))
        {
            throw new ImageException(ImageErrorKind.Unavailable, $"{endpoint.Display} sent a Bearer challenge without a valid http(s) realm for {what}");
        }

        var key = Key(realmText, challenge.Service, scope, credentials);
        if (refresh)
        {
            _tokens.TryRemove(key, out _);
        }
        else if (_tokens.TryGetValue(key, out var cached) && cached.ExpiresAt > _time.GetUtcNow())
        {
            return new AuthenticationHeaderValue("Bearer", cached.Token);
        }

        var scopes = new List<string> { scope };
        if (challenge.Scope is { Length: > 0 } asked && asked != scope)
        {
            scopes.Add(asked);
        }

        var token = await FetchTokenAsync(realm, challenge.Service, scopes, credentials, what, cancellationToken);
        _tokens[key] = token;
        return new AuthenticationHeaderValue("Bearer", token.Token);
    }

    private async Task<CachedToken> FetchTokenAsync(Uri realm, string? service, List<string> scopes, RegistryCredentials? credentials, string what, CancellationToken cancellationToken)
    {
        var display = realm.GetLeftPart(UriPartial.Path);
        var skipTlsVerify = _options.Hosts.TryGetValue(realm.Authority, out var host) && host.SkipTlsVerify;
        var oauth = credentials?.IdentityToken is not null;
        using var response = await _http.SendAsync(display, retryConnectionErrors: true, skipTlsVerify, () => TokenRequest(realm, service, scopes, credentials), cancellationToken);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new ImageException(
                ImageErrorKind.Unauthorized,
                credentials is null
                    ? $"token endpoint {display} refused an anonymous token to pull {what}"
                    : $"token endpoint {display} refused the credentials to pull {what} (HTTP {(int)response.StatusCode})");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new ImageException(ImageErrorKind.Unavailable, $"token endpoint {display} answered HTTP {(int)response.StatusCode} for {what}");
        }

        var body = await RegistryContent.ReadLimitedAsync(response.Content, MaxTokenResponseBytes, cancellationToken)
            ?? throw new ImageException(ImageErrorKind.Unavailable, $"token endpoint {display} sent more than {MaxTokenResponseBytes} bytes");
        var (token, expiresIn) = ParseToken(body, display);
        var lifetime = expiresIn is { } seconds && seconds > DefaultTokenLifetime.TotalSeconds ? TimeSpan.FromSeconds(seconds) : DefaultTokenLifetime;
        LogTokenFetched(_logger, display, service ?? string.Empty, scopes, oauth ? "refresh_token" : credentials?.Username is not null ? "basic" : "anonymous", (long)lifetime.TotalSeconds);
        return new CachedToken(token, _time.GetUtcNow() + lifetime - ExpiryMargin);
    }

    private static HttpRequestMessage TokenRequest(Uri realm, string? service, List<string> scopes, RegistryCredentials? credentials)
    {
        if (credentials?.IdentityToken is { } refreshToken)
        {
            // OAuth2 refresh-token grant (the Docker token spec's "oauth" flow); scopes are space-separated.
            var form = new List<KeyValuePair<string, string>>
            {
                new("grant_type", "refresh_token"),
                new("refresh_token", refreshToken),
                new("client_id", ClientId),
                new("scope", string.Join(' ', scopes)),
            };
            if (service is not null)
            {
                form.Add(new("service", service));
            }

            return new HttpRequestMessage(HttpMethod.Post, realm) { Content = new FormUrlEncodedContent(form) };
        }

        var query = new StringBuilder(realm.Query.TrimStart('?'));
        if (service is not null)
        {
            Append(query, "service", service);
        }

        foreach (var scope in scopes)
        {
            Append(query, "scope", scope);
        }

        var uri = new UriBuilder(realm) { Query = query.ToString() }.Uri;
        return RegistryHttp.Get(uri, null, credentials?.Username is not null ? Basic(credentials) : null);
    }

    private static void Append(StringBuilder query, string name, string value)
    {
        if (query.Length > 0)
        {
            query.Append('&');
        }

        query.Append(name).Append('=').Append(Uri.EscapeDataString(value));
    }

    private static (string Token, double? ExpiresIn) ParseToken(byte[] body, string display)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            string? token = null;
            double? expiresIn = null;
            if (root.ValueKind == JsonValueKind.Object)
            {
                token = Text(root, "token") ?? Text(root, "access_token");
                if (root.TryGetProperty("expires_in", out var expires) && expires.ValueKind == JsonValueKind.Number)
                {
                    expiresIn = expires.GetDouble();
                }
            }

            return token is { Length: > 0 }
                ? (token, expiresIn)
                : throw new ImageException(ImageErrorKind.Unavailable, $"token endpoint {display} sent no token");
        }
        catch (JsonException)
        {
            throw new ImageException(ImageErrorKind.Unavailable, $"token endpoint {display} sent a response that is not JSON");
        }
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static AuthenticationHeaderValue Basic(RegistryCredentials credentials) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.Username}:{credentials.Password}")));

    private static TokenCacheKey Key(string realm, string? service, string scope, RegistryCredentials? credentials) =>
        new(realm, service ?? string.Empty, scope, Fingerprint(credentials));

    /// <summary>Tells credentials apart without keeping them in the key: a hash of every field.</summary>
    private static string Fingerprint(RegistryCredentials? credentials) =>
        credentials is null
            ? "anonymous"
            : Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
                $"{credentials.Username}\0{credentials.Password}\0{credentials.IdentityToken}\0{credentials.RegistryToken}")));

    [LoggerMessage(Level = LogLevel.Debug, Message = "registry token fetched realm={Realm} service={Service} scope={Scope} grant={Grant} lifetime_s={LifetimeSeconds}")]
    private static partial void LogTokenFetched(ILogger logger, string realm, string service, IReadOnlyList<string> scope, string grant, long lifetimeSeconds);
}
