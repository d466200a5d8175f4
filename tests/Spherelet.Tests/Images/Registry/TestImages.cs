using System.Text;
using System.Text.Json;
using Spherelet.Images;

namespace Spherelet.Tests.Images.Registry;

/// <summary>Builds manifests and indexes and pushes small images into a <see cref="FakeRegistry"/>.</summary>
internal static class TestImages
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";

    public static byte[] ImageManifest(string mediaType, Descriptor config, params Descriptor[] layers) =>
        JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = mediaType,
            ["config"] = Json(config),
            ["layers"] = layers.Select(Json).ToList(),
        });

    public static byte[] Index(string mediaType, params (Descriptor Manifest, string Os, string Architecture)[] entries) =>
        JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = mediaType,
            ["manifests"] = entries.Select(e => new Dictionary<string, object>(Json(e.Manifest))
            {
                ["platform"] = new Dictionary<string, string> { ["os"] = e.Os, ["architecture"] = e.Architecture },
            }).ToList(),
        });

    /// <summary>Pushes a config, one layer and a manifest; returns the manifest's descriptor, the config and the layer.</summary>
    public static (Descriptor Manifest, Descriptor Config, Descriptor Layer) Push(FakeRegistry registry, string repository, string? tag, string mediaType = OciManifest, string layerText = "layer")
    {
        var config = registry.AddBlob(repository, Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","layer":"{{layerText}}"}"""), OciConfig);
        var layer = registry.AddBlob(repository, Encoding.UTF8.GetBytes(layerText), OciLayer);
        var manifest = registry.AddManifest(repository, tag, ImageManifest(mediaType, config, layer), mediaType);
        return (manifest, config, layer);
    }

    private static Dictionary<string, object> Json(Descriptor descriptor) => new()
    {
        ["mediaType"] = descriptor.MediaType,
        ["digest"] = descriptor.Digest,
        ["size"] = descriptor.Size,
    };
}
