using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Spherelet.Images.Store;

namespace Spherelet.Images.Registry;

/// <summary>
/// A client of the OCI Distribution API (Registry HTTP API v2): resolves a reference to a verified linux/amd64
/// image manifest and streams blobs. Every request tries the registry's mirrors in order, then the registry
/// itself (<c>docker.io</c> is served by <c>registry-1.docker.io</c>); a failing mirror falls through, the
/// registry's answer is final. Requests start anonymous and answer Basic or Bearer challenges; transient failures
/// are retried (see <see cref="RegistryOptions"/>).
/// </summary>
public sealed partial class RegistryClient : IDisposable
{
    /// <summary>The largest manifest accepted.</summary>
    internal const int MaxManifestBytes = 4 << 20;

    private const int MaxErrorBodyBytes = 64 << 10;
    private const int MaxIndexDepth = 3;
    private const int MaxDetailLength = 300;
    private static readonly HashSet<string> NotFoundCodes = new(StringComparer.Ordinal) { "MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UNKNOWN" };
    private static readonly HashSet<string> DeniedCodes = new(StringComparer.Ordinal) { "UNAUTHORIZED", "DENIED" };
    private static readonly HashSet<string> InvalidCodes = new(StringComparer.Ordinal) { "NAME_INVALID", "TAG_INVALID", "MANIFEST_INVALID", "DIGEST_INVALID" };

    private readonly RegistryOptions _options;
    private readonly ILogger<RegistryClient> _logger;
    private readonly RegistryHttp _http;
    private readonly RegistryAuthenticator _auth;

    /// <param name="handler">Sends the requests (tests); null builds a handler per TLS setting that does not follow redirects itself.</param>
    /// <exception cref="ArgumentException">The options are not valid (see <see cref="RegistryOptionsValidator"/>).</exception>
    public RegistryClient(RegistryOptions options, ILogger<RegistryClient> logger, HttpMessageHandler? handler = null)
        : this(options, logger, handler, TimeProvider.System)
    {
    }

    /// <param name="time">The clock that token lifetimes are measured with (tests).</param>
    internal RegistryClient(RegistryOptions options, ILogger<RegistryClient> logger, HttpMessageHandler? handler, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(time);
        var problems = RegistryOptionsValidator.Validate(options);
        if (problems.Count > 0)
        {
            throw new ArgumentException("invalid registry options: " + string.Join("; ", problems), nameof(options));
        }

        _options = options;
        _logger = logger;
        _http = new RegistryHttp(options, logger, handler);
        _auth = new RegistryAuthenticator(options, _http, logger, time);
    }

    /// <summary>
    /// Fetches the manifest for <paramref name="reference"/> (by digest when it has one, else by tag), follows a Docker
    /// manifest list or OCI index to its linux/amd64 entry, and verifies every manifest's bytes against its digest: the
    /// one asked for, the index entry's, or the Docker-Content-Digest header when asking by tag.
    /// </summary>
    /// <exception cref="ImageException">
    /// NotFound (no such repository, tag or manifest; no linux/amd64 entry), Unauthorized, DigestMismatch,
    /// Invalid (schema 1 or malformed manifests), Unavailable (unreachable or failing after the retries).
    /// </exception>
    public async Task<ResolvedManifest> ResolveAsync(ImageReference reference, RegistryCredentials? credentials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var top = await FetchManifestAsync(reference, reference.Digest ?? reference.Tag ?? ImageReference.DefaultTag, reference.Digest, null, credentials, cancellationToken);
        string? indexDigest = null;
        var current = top;
        for (var depth = 0; current.Manifest.IsIndex; depth++)
        {
            if (depth == MaxIndexDepth)
            {
                throw new ImageException(ImageErrorKind.Invalid, $"the indexes of {reference} are nested more than {MaxIndexDepth} deep");
            }

            indexDigest ??= current.Digest;
            var entry = current.Manifest.SelectLinuxAmd64()
                ?? throw new ImageException(
                    ImageErrorKind.NotFound,
                    $"no linux/amd64 image in {reference} (index {current.Digest} has {Platforms(current.Manifest)})");
            current = await FetchManifestAsync(reference, entry.Manifest.Digest, entry.Manifest.Digest, entry.Manifest.Size, credentials, cancellationToken);
        }

        var manifest = current.Manifest;
        LogManifestResolved(reference, current.Digest, current.Bytes.Length, manifest.MediaType, indexDigest ?? "none", current.Endpoint.Display);
        return new ResolvedManifest(current.Digest, manifest.MediaType, current.Bytes, manifest.Config!, manifest.Layers, indexDigest);
    }

    /// <summary>
    /// Opens a blob's body for streaming, following redirects (credentials only go to the registry's own origin).
    /// The caller verifies digest and size while it stores the bytes; a Content-Length that contradicts
    /// <see cref="Descriptor.Size"/> fails here already. Dispose the stream to free the connection.
    /// </summary>
    /// <exception cref="ImageException">Invalid digest, NotFound, Unauthorized, DigestMismatch (size), Unavailable.</exception>
    public async Task<Stream> OpenBlobAsync(ImageReference reference, Descriptor blob, RegistryCredentials? credentials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(blob);
        if (!Digests.IsValid(blob.Digest))
        {
            throw new ImageException(ImageErrorKind.Invalid, $"blob digest '{blob.Digest}' of {reference} is not sha256: and 64 lowercase hex digits");
        }

        var what = "blob " + blob.Digest;
        var (response, endpoint) = await SendAsync(reference, $"/v2/{reference.Repository}/blobs/{blob.Digest}", null, what, credentials, cancellationToken);
        try
        {
            if (response.Content.Headers.ContentLength is { } length && length != blob.Size)
            {
                throw new ImageException(
                    ImageErrorKind.DigestMismatch,
                    $"{what} of {reference} is {length} bytes at {endpoint.Display}, but its descriptor says {blob.Size}");
            }

            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            LogBlobOpened(reference, blob.Digest, blob.Size, blob.MediaType, endpoint.Display);
            return new ResponseStream(response, body);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<FetchedManifest> FetchManifestAsync(
        ImageReference reference,
        string tagOrDigest,
        string? expectedDigest,
        long? expectedSize,
        RegistryCredentials? credentials,
        CancellationToken cancellationToken)
    {
        var what = "manifest " + tagOrDigest;
        var (response, endpoint) = await SendAsync(reference, $"/v2/{reference.Repository}/manifests/{tagOrDigest}", ManifestMediaTypes.Accepted, what, credentials, cancellationToken);
        byte[] bytes;
        string? contentType;
        string? announced;
        using (response)
        {
            try
            {
                bytes = await RegistryContent.ReadLimitedAsync(response.Content, MaxManifestBytes, cancellationToken)
                    ?? throw new ImageException(ImageErrorKind.Invalid, $"{what} of {reference} is larger than {MaxManifestBytes} bytes");
            }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                throw new ImageException(ImageErrorKind.Unavailable, $"reading {what} of {reference} from {endpoint.Display} failed: {e.Message}", e);
            }

            contentType = response.Content.Headers.ContentType?.MediaType;
            announced = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.FirstOrDefault()?.Trim() : null;
        }

        var actual = Digests.Of(bytes);
        var expected = expectedDigest ?? (Digests.IsValid(announced) ? announced : null);
        if (expected is not null && expected != actual)
        {
            throw new ImageException(
                ImageErrorKind.DigestMismatch,
                $"{what} of {reference} from {endpoint.Display} does not match its digest: expected {expected}, got {actual}");
        }

        if (expectedSize is { } size && size != bytes.Length)
        {
            throw new ImageException(
                ImageErrorKind.DigestMismatch,
                $"{what} of {reference} from {endpoint.Display} is {bytes.Length} bytes, but its index entry says {size}");
        }

        var parsed = ManifestParser.Parse(bytes, contentType, $"{actual} of {reference}");
        return new FetchedManifest(actual, bytes, parsed, endpoint);
    }

    /// <summary>Sends a GET to the reference's mirrors, then its registry; returns the first successful response.</summary>
    private async Task<(HttpResponseMessage Response, RegistryEndpoint Endpoint)> SendAsync(
        ImageReference reference,
        string path,
        IEnumerable<string>? accept,
        string what,
        RegistryCredentials? credentials,
        CancellationToken cancellationToken)
    {
        var endpoints = RegistryEndpoint.For(reference.Registry, _options);
        foreach (var endpoint in endpoints)
        {
            HttpResponseMessage response;
            try
            {
                response = await SendAuthorizedAsync(endpoint, reference, path, accept, RegistryEndpoint.CredentialsFor(endpoint, reference.Registry, credentials), cancellationToken);
            }
            catch (Exception e) when (endpoint.IsMirror && e is HttpRequestException or TimeoutException or ImageException)
            {
                LogMirrorFailed(endpoint.Display, reference, what, e.Message);
                continue;
            }
            catch (Exception e) when (e is HttpRequestException or TimeoutException)
            {
                throw new ImageException(ImageErrorKind.Unavailable, $"cannot reach {endpoint.Display} for {what} of {reference}: {e.Message}", e);
            }

            if (response.IsSuccessStatusCode)
            {
                return (response, endpoint);
            }

            using (response)
            {
                var error = await ErrorAsync(response, reference, what, endpoint, cancellationToken);
                if (!endpoint.IsMirror)
                {
                    throw error;
                }

                LogMirrorFailed(endpoint.Display, reference, what, error.Message);
            }
        }

        throw new InvalidOperationException("the registry itself is always the last endpoint");
    }

    /// <summary>One request to one endpoint: with a remembered authorization if there is one, and once more after a challenge.</summary>
    private async Task<HttpResponseMessage> SendAuthorizedAsync(
        RegistryEndpoint endpoint,
        ImageReference reference,
        string path,
        IEnumerable<string>? accept,
        RegistryCredentials? credentials,
        CancellationToken cancellationToken)
    {
        var uri = endpoint.Resolve(path);
        var scope = $"repository:{reference.Repository}:pull";
        var first = _auth.Cached(endpoint, scope, credentials);
        var response = await _http.SendAsync(endpoint.Display, !endpoint.IsMirror, endpoint.SkipTlsVerify, () => RegistryHttp.Get(uri, accept, first), cancellationToken);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        var challenge = AuthChallenge.Select(response);
        response.Dispose();
        if (challenge is null)
        {
            throw new ImageException(ImageErrorKind.Unauthorized, $"{endpoint.Display} requires authentication to pull {reference} but sent no WWW-Authenticate challenge");
        }

        var second = await _auth.AuthorizeAsync(endpoint, challenge, scope, credentials, refresh: first is not null, reference.ToString(), cancellationToken);
        response = await _http.SendAsync(endpoint.Display, !endpoint.IsMirror, endpoint.SkipTlsVerify, () => RegistryHttp.Get(uri, accept, second), cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            response.Dispose();
            throw new ImageException(
                ImageErrorKind.Unauthorized,
                $"{endpoint.Display} refused {(credentials is null ? "anonymous access" : "the credentials")} to pull {reference}: the repository does not exist or needs other credentials");
        }

        return response;
    }

    private async Task<ImageException> ErrorAsync(HttpResponseMessage response, ImageReference reference, string what, RegistryEndpoint endpoint, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var (code, message) = await ReadErrorAsync(response, cancellationToken);
        var detail = code is null ? string.Empty : $" ({Shorten(code + (message is null ? string.Empty : ": " + message))})";
        if (response.StatusCode == HttpStatusCode.NotFound || code is not null && NotFoundCodes.Contains(code))
        {
            return new ImageException(ImageErrorKind.NotFound, $"{what} of {reference} not found at {endpoint.Display}{detail}");
        }

        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden || code is not null && DeniedCodes.Contains(code))
        {
            return new ImageException(ImageErrorKind.Unauthorized, $"{endpoint.Display} denied pulling {what} of {reference} (HTTP {status}){detail}");
        }

        if (response.StatusCode == HttpStatusCode.TooManyRequests || status >= 500)
        {
            return new ImageException(ImageErrorKind.Unavailable, $"{endpoint.Display} kept failing for {what} of {reference}: HTTP {status} after {_options.MaxAttempts} attempts{detail}");
        }

        if (code is not null && InvalidCodes.Contains(code))
        {
            return new ImageException(ImageErrorKind.Invalid, $"{endpoint.Display} refused {what} of {reference} as invalid (HTTP {status}){detail}");
        }

        return new ImageException(ImageErrorKind.Unavailable, $"{endpoint.Display} answered HTTP {status} for {what} of {reference}{detail}");
    }

    /// <summary>The first entry of a registry error body (<c>{"errors":[{"code":..,"message":..}]}</c>), if it has one.</summary>
    private static async Task<(string? Code, string? Message)> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var body = await RegistryContent.ReadLimitedAsync(response.Content, MaxErrorBodyBytes, cancellationToken);
            if (body is not { Length: > 0 })
            {
                return (null, null);
            }

            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Array
                && errors.GetArrayLength() > 0
                && errors[0].ValueKind == JsonValueKind.Object)
            {
                var first = errors[0];
                var code = first.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                var message = first.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                return (code, message);
            }
        }
        catch (Exception e) when (e is JsonException or HttpRequestException or IOException)
        {
            // An error body is a courtesy; the status code says enough.
        }

        return (null, null);
    }

    private static string Platforms(ParsedManifest index)
    {
        var platforms = index.Manifests.Select(m => m.Platform).Distinct(StringComparer.Ordinal).ToList();
        return platforms.Count == 0 ? "no entries" : string.Join(", ", platforms);
    }

    private static string Shorten(string text) => text.Length <= MaxDetailLength ? text : string.Concat(text.AsSpan(0, MaxDetailLength), "...");

    [LoggerMessage(Level = LogLevel.Debug, Message = "manifest resolved reference={Reference} digest={Digest} size={Size} media_type={MediaType} index={IndexDigest} endpoint={Endpoint}")]
    private partial void LogManifestResolved(ImageReference reference, string digest, long size, string mediaType, string indexDigest, string endpoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "blob opened reference={Reference} digest={Digest} size={Size} media_type={MediaType} endpoint={Endpoint}")]
    private partial void LogBlobOpened(ImageReference reference, string digest, long size, string mediaType, string endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "registry mirror failed, trying the next endpoint mirror={Mirror} reference={Reference} request={Request} error={Error}")]
    private partial void LogMirrorFailed(string mirror, ImageReference reference, string request, string error);
}
