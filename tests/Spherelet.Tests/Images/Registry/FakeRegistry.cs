using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Spherelet.Images;
using Spherelet.Images.Store;

namespace Spherelet.Tests.Images.Registry;

/// <summary>
/// A small Distribution API v2 registry on 127.0.0.1 (HttpListener): serves manifests and blobs, can demand Basic
/// or Bearer auth (with its own token endpoint at <c>/token</c>), fail the next requests with a given status, and
/// redirect paths. It records every request so tests can see what the client sent.
/// </summary>
internal sealed class FakeRegistry : IAsyncDisposable
{
    public const string Service = "fake-registry";

    private readonly HttpListener _listener;
    private readonly Task _loop;
    private readonly ConcurrentDictionary<(string Repository, string Key), ServedManifest> _manifests = new();
    private readonly ConcurrentDictionary<(string Repository, string Digest), byte[]> _blobs = new();
    private readonly ConcurrentDictionary<string, byte[]> _raw = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _redirects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _issuedTokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(int Status, string? RetryAfter)> _failures = new();
    private int _tokenCounter;

    private FakeRegistry(HttpListener listener, int port)
    {
        _listener = listener;
        Port = port;
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }

    /// <summary><c>127.0.0.1:PORT</c>, the registry part of references to this registry.</summary>
    public string Host => $"127.0.0.1:{Port}";

    /// <summary>When set, /v2/ requests need this Basic username and password.</summary>
    public (string User, string Password)? BasicAuth { get; set; }

    /// <summary>When true, /v2/ requests need a bearer token from <c>/token</c> (or <see cref="StaticToken"/>).</summary>
    public bool RequireBearer { get; set; }

    /// <summary>When set, the token endpoint wants these Basic credentials (else it issues anonymous tokens).</summary>
    public (string User, string Password)? TokenCredentials { get; set; }

    /// <summary>When set, the token endpoint accepts an OAuth2 refresh_token grant with this refresh token.</summary>
    public string? RefreshToken { get; set; }

    /// <summary>A bearer token the registry accepts without it being issued by <c>/token</c>.</summary>
    public string? StaticToken { get; set; }

    /// <summary>Requests to <c>/token</c>: method, query and form body.</summary>
    public ConcurrentQueue<string> TokenRequests { get; } = new();

    /// <summary>Every request: method, path and query, and its Authorization header.</summary>
    public ConcurrentQueue<(string Request, string? Authorization)> Requests { get; } = new();

    public static async Task<FakeRegistry> StartAsync()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return new FakeRegistry(listener, port);
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close();
                await Task.Delay(50);
            }
        }
    }

    /// <summary>A loopback port that nothing listens on (for an unreachable registry or mirror).</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    public Descriptor AddBlob(string repository, byte[] content, string mediaType = "application/octet-stream")
    {
        var digest = Digests.Of(content);
        _blobs[(repository, digest)] = content;
        return new Descriptor(mediaType, digest, content.Length);
    }

    /// <summary>Serves a manifest under its digest and, when given, a tag.</summary>
    public Descriptor AddManifest(string repository, string? tag, byte[] content, string mediaType)
    {
        var digest = Digests.Of(content);
        var served = new ServedManifest(content, mediaType, digest);
        _manifests[(repository, digest)] = served;
        if (tag is not null)
        {
            _manifests[(repository, tag)] = served;
        }

        return new Descriptor(mediaType, digest, content.Length);
    }

    /// <summary>Serves exactly these bytes and headers for a tag or digest, however wrong they are.</summary>
    public void ServeManifest(string repository, string tagOrDigest, ServedManifest served) => _manifests[(repository, tagOrDigest)] = served;

    /// <summary>Serves bytes at any path (no auth), e.g. the target of a redirect.</summary>
    public void ServeRaw(string path, byte[] content) => _raw[path] = content;

    /// <summary>Answers a /v2/ path (once authorized) with 307 Temporary Redirect to a location.</summary>
    public void Redirect(string path, string location) => _redirects[path] = location;

    /// <summary>Answers the next <paramref name="count"/> /v2/ requests with a status (and Retry-After).</summary>
    public void FailNext(int count, int status, string? retryAfter = null)
    {
        for (var i = 0; i < count; i++)
        {
            _failures.Enqueue((status, retryAfter));
        }
    }

    /// <summary>Forgets every token issued so far, as a registry does when they expire or are revoked.</summary>
    public void RevokeTokens() => _issuedTokens.Clear();

    public int CountRequests(string pathPrefix) => Requests.Count(r => r.Request.Contains(" " + pathPrefix, StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        // Close alone: the managed HttpListener's Close after Stop looks its endpoint up again,
        // binds the port anew to do so, and throws "Address already in use" when another test has
        // taken that port meanwhile (seen once in CI).
        _listener.Close();
        try
        {
            await _loop;
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = request.Url!.AbsolutePath;
        Requests.Enqueue(($"{request.HttpMethod} {request.Url.PathAndQuery}", request.Headers["Authorization"]));
        try
        {
            if (path == "/token")
            {
                await TokenAsync(request, response);
            }
            else if (_raw.TryGetValue(path, out var raw))
            {
                await WriteAsync(response, raw, "application/octet-stream");
            }
            else if (path.StartsWith("/v2/", StringComparison.Ordinal))
            {
                await RegistryAsync(request, response, path);
            }
            else
            {
                response.StatusCode = 404;
                await WriteAsync(response, []);
            }
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException)
        {
            // The client went away.
        }
    }

    private async Task RegistryAsync(HttpListenerRequest request, HttpListenerResponse response, string path)
    {
        if (_failures.TryDequeue(out var failure))
        {
            response.StatusCode = failure.Status;
            if (failure.RetryAfter is not null)
            {
                response.AddHeader("Retry-After", failure.RetryAfter);
            }

            await WriteAsync(response, Encoding.UTF8.GetBytes("""{"errors":[{"code":"UNAVAILABLE","message":"try again"}]}"""), "application/json");
            return;
        }

        var parts = path["/v2/".Length..].Split('/');
        var kind = parts.Length >= 3 ? parts[^2] : string.Empty;
        var repository = parts.Length >= 3 ? string.Join('/', parts[..^2]) : string.Empty;
        if (!Authorized(request, response, repository))
        {
            await Error(response, 401, "UNAUTHORIZED", "authentication required");
            return;
        }

        if (_redirects.TryGetValue(path, out var location))
        {
            response.StatusCode = 307;
            response.RedirectLocation = location;
            await WriteAsync(response, []);
        }
        else if (kind == "manifests" && _manifests.TryGetValue((repository, parts[^1]), out var manifest))
        {
            if (manifest.AnnouncedDigest is not null)
            {
                response.AddHeader("Docker-Content-Digest", manifest.AnnouncedDigest);
            }

            await WriteAsync(response, manifest.Content, manifest.MediaType);
        }
        else if (kind == "manifests")
        {
            await Error(response, 404, "MANIFEST_UNKNOWN", "manifest unknown");
        }
        else if (kind == "blobs" && _blobs.TryGetValue((repository, parts[^1]), out var blob))
        {
            await WriteAsync(response, blob, "application/octet-stream");
        }
        else
        {
            await Error(response, 404, kind == "blobs" ? "BLOB_UNKNOWN" : "NAME_UNKNOWN", "unknown");
        }
    }

    private bool Authorized(HttpListenerRequest request, HttpListenerResponse response, string repository)
    {
        var authorization = request.Headers["Authorization"];
        if (BasicAuth is { } basic)
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{basic.User}:{basic.Password}"));
            if (authorization == expected)
            {
                return true;
            }

            response.AddHeader("WWW-Authenticate", $"Basic realm=\"{Service}\"");
            return false;
        }

        if (RequireBearer)
        {
            if (authorization is not null && authorization.StartsWith("Bearer ", StringComparison.Ordinal))
            {
                var token = authorization["Bearer ".Length..];
                if (_issuedTokens.ContainsKey(token) || token == StaticToken)
                {
                    return true;
                }
            }

            response.AddHeader("WWW-Authenticate", $"Bearer realm=\"http://{Host}/token\",service=\"{Service}\",scope=\"repository:{repository}:pull\"");
            return false;
        }

        return true;
    }

    private async Task TokenAsync(HttpListenerRequest request, HttpListenerResponse response)
    {
        string body;
        using (var reader = new StreamReader(request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync();
        }

        TokenRequests.Enqueue($"{request.HttpMethod} {request.Url!.Query} {body}");
        string field;
        if (request.HttpMethod == "POST")
        {
            var form = body.Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => Uri.UnescapeDataString(p[0]), p => Uri.UnescapeDataString(p.Length > 1 ? p[1].Replace('+', ' ') : string.Empty));
            if (RefreshToken is null || form.GetValueOrDefault("grant_type") != "refresh_token" || form.GetValueOrDefault("refresh_token") != RefreshToken)
            {
                await Error(response, 401, "UNAUTHORIZED", "bad refresh token");
                return;
            }

            field = "access_token";
        }
        else
        {
            if (TokenCredentials is { } credentials)
            {
                var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.User}:{credentials.Password}"));
                if (request.Headers["Authorization"] != expected)
                {
                    await Error(response, 401, "UNAUTHORIZED", "bad credentials");
                    return;
                }
            }

            field = "token";
        }

        var token = $"token-{Interlocked.Increment(ref _tokenCounter)}";
        _issuedTokens[token] = 0;
        var json = JsonSerializer.Serialize(new Dictionary<string, object> { [field] = token, ["expires_in"] = 300 });
        await WriteAsync(response, Encoding.UTF8.GetBytes(json), "application/json");
    }

    private static Task Error(HttpListenerResponse response, int status, string code, string message)
    {
        response.StatusCode = status;
        return WriteAsync(response, Encoding.UTF8.GetBytes($$"""{"errors":[{"code":"{{code}}","message":"{{message}}"}]}"""), "application/json");
    }

    private static async Task WriteAsync(HttpListenerResponse response, byte[] content, string? contentType = null)
    {
        if (contentType is not null)
        {
            response.ContentType = contentType;
        }

        response.ContentLength64 = content.Length;
        await response.OutputStream.WriteAsync(content);
        response.Close();
    }
}
