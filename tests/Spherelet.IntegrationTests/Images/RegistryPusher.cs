using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Spherelet.IntegrationTests.Images;

/// <summary>
/// Pushes images a test built to a registry over the Distribution API (blob uploads, then
/// the manifest): Docker schema 2 or OCI media types, and manifest lists / indexes.
/// </summary>
public sealed class RegistryPusher : IDisposable
{
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";

    private readonly HttpClient _http;

    public RegistryPusher(RegistryServer registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        _http = new HttpClient { BaseAddress = registry.BaseAddress, Timeout = TimeSpan.FromMinutes(5) };
        if (registry.Login is { } login)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{login.User}:{login.Password}")));
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Pushes layers, a config and a manifest; returns the manifest's digest and size, and the config's digest (the image id).</summary>
    public async Task<(string ManifestDigest, long ManifestSize, string ConfigDigest)> PushImageAsync(
        string repository, string? tag, IReadOnlyList<(byte[] Blob, string Digest, string DiffId)> layers, JsonObject? containerConfig = null, bool oci = false)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var config = new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = containerConfig ?? new JsonObject { ["Cmd"] = new JsonArray("/bin/sh") },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(layers.Select(l => (JsonNode)l.DiffId).ToArray()) },
        };
        var configBytes = Encoding.UTF8.GetBytes(config.ToJsonString());
        var configDigest = TestLayer.Sha256(configBytes);
        await PushBlobAsync(repository, configBytes, configDigest);
        foreach (var layer in layers)
        {
            await PushBlobAsync(repository, layer.Blob, layer.Digest);
        }

        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = oci ? OciManifest : DockerManifest,
            ["config"] = Descriptor(oci ? OciConfig : DockerConfig, configDigest, configBytes.Length),
            ["layers"] = new JsonArray(layers.Select(l => (JsonNode)Descriptor(oci ? OciLayer : DockerLayer, l.Digest, l.Blob.Length)).ToArray()),
        };
        var manifestBytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var digest = TestLayer.Sha256(manifestBytes);
        await PutManifestAsync(repository, tag ?? digest, manifestBytes, oci ? OciManifest : DockerManifest);
        return (digest, manifestBytes.Length, configDigest);
    }

    /// <summary>Pushes a manifest list (Docker) or an index (OCI) of already pushed manifests.</summary>
    public async Task<string> PushIndexAsync(string repository, string tag, IEnumerable<(string Digest, long Size, string Architecture)> manifests, bool oci = false)
    {
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = oci ? OciIndex : DockerList,
            ["manifests"] = new JsonArray(manifests.Select(m =>
            {
                var entry = Descriptor(oci ? OciManifest : DockerManifest, m.Digest, m.Size);
                entry["platform"] = new JsonObject { ["architecture"] = m.Architecture, ["os"] = "linux" };
                return (JsonNode)entry;
            }).ToArray()),
        };
        var bytes = Encoding.UTF8.GetBytes(index.ToJsonString());
        await PutManifestAsync(repository, tag, bytes, oci ? OciIndex : DockerList);
        return TestLayer.Sha256(bytes);
    }

    private async Task PushBlobAsync(string repository, byte[] content, string digest)
    {
        using (var head = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"v2/{repository}/blobs/{digest}")))
        {
            if (head.IsSuccessStatusCode)
            {
                return;
            }
        }

        using var start = await _http.PostAsync($"v2/{repository}/blobs/uploads/", null);
        start.EnsureSuccessStatusCode();
        var location = start.Headers.Location ?? throw new InvalidOperationException("the registry gave no upload location");
        var upload = new UriBuilder(location.IsAbsoluteUri ? location : new Uri(_http.BaseAddress!, location));
        upload.Query = (upload.Query.Length > 1 ? upload.Query[1..] + "&" : string.Empty) + "digest=" + Uri.EscapeDataString(digest);
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await _http.PutAsync(upload.Uri, body);
        put.EnsureSuccessStatusCode();
    }

    private async Task PutManifestAsync(string repository, string reference, byte[] bytes, string mediaType)
    {
        using var body = new ByteArrayContent(bytes);
        body.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var put = await _http.PutAsync($"v2/{repository}/manifests/{reference}", body);
        if (!put.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"manifest push failed: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        }
    }

    private static JsonObject Descriptor(string mediaType, string digest, long size) =>
        new() { ["mediaType"] = mediaType, ["digest"] = digest, ["size"] = size };
}
