using System.Text.Json;
using Spherelet.Images.Store;

namespace Spherelet.Images.Registry;

/// <summary>Reads image manifests and indexes (Docker schema 2 and OCI) from their JSON.</summary>
internal static class ManifestParser
{
    /// <param name="content">The manifest bytes.</param>
    /// <param name="contentType">The media type of the response's Content-Type header, if any.</param>
    /// <param name="what">Names the manifest in error messages (reference and digest).</param>
    /// <exception cref="ImageException">Invalid: not JSON, schema 1, an unknown media type or malformed descriptors.</exception>
    public static ParsedManifest Parse(ReadOnlyMemory<byte> content, string? contentType, string what)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content);
        }
        catch (JsonException e)
        {
            throw new ImageException(ImageErrorKind.Invalid, $"manifest {what} is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ImageException(ImageErrorKind.Invalid, $"manifest {what} is not a JSON object");
            }

            var declared = String(root, "mediaType");
            if (ManifestMediaTypes.IsSchema1(declared) || ManifestMediaTypes.IsSchema1(contentType)
                || root.TryGetProperty("schemaVersion", out var version) && version.ValueKind == JsonValueKind.Number && version.TryGetInt32(out var v) && v == 1)
            {
                throw new ImageException(ImageErrorKind.Invalid, $"manifest {what}: schema 1 manifests are not supported");
            }

            var mediaType = declared ?? KnownOrNull(contentType) ?? Infer(root)
                ?? throw new ImageException(ImageErrorKind.Invalid, $"manifest {what} has no media type and is neither an image manifest nor an index");
            if (ManifestMediaTypes.IsIndex(mediaType))
            {
                var manifests = Array(root, "manifests", what).Select(e => Platform(e, what)).ToList();
                return new ParsedManifest(mediaType, null, [], manifests);
            }

            if (!ManifestMediaTypes.IsImageManifest(mediaType))
            {
                throw new ImageException(ImageErrorKind.Invalid, $"manifest {what} has media type '{mediaType}', which is not an image manifest or index");
            }

            if (!root.TryGetProperty("config", out var config))
            {
                throw new ImageException(ImageErrorKind.Invalid, $"manifest {what} has no config");
            }

            var layers = Array(root, "layers", what).Select(e => ParseDescriptor(e, what)).ToList();
            return new ParsedManifest(mediaType, ParseDescriptor(config, what), layers, []);
        }
    }

    private static string? KnownOrNull(string? contentType) =>
        contentType is not null && (ManifestMediaTypes.IsIndex(contentType) || ManifestMediaTypes.IsImageManifest(contentType)) ? contentType : null;

    private static string? Infer(JsonElement root) =>
        root.TryGetProperty("manifests", out _) ? ManifestMediaTypes.OciIndex
        : root.TryGetProperty("config", out _) && root.TryGetProperty("layers", out _) ? ManifestMediaTypes.OciManifest
        : null;

    private static JsonElement.ArrayEnumerator Array(JsonElement root, string name, string what) =>
        root.TryGetProperty(name, out var array) && array.ValueKind == JsonValueKind.Array
            ? array.EnumerateArray()
            : throw new ImageException(ImageErrorKind.Invalid, $"manifest {what} has no '{name}' array");

    private static PlatformManifest Platform(JsonElement entry, string what)
    {
        var descriptor = ParseDescriptor(entry, what);
        if (!entry.TryGetProperty("platform", out var platform) || platform.ValueKind != JsonValueKind.Object)
        {
            return new PlatformManifest(descriptor, null, null, null);
        }

        return new PlatformManifest(descriptor, String(platform, "os"), String(platform, "architecture"), String(platform, "variant"));
    }

    private static Descriptor ParseDescriptor(JsonElement element, string what)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new ImageException(ImageErrorKind.Invalid, $"manifest {what} has a descriptor that is not an object");
        }

        var mediaType = String(element, "mediaType");
        var digest = String(element, "digest");
        if (string.IsNullOrEmpty(mediaType))
        {
            throw new ImageException(ImageErrorKind.Invalid, $"manifest {what} has a descriptor without a media type");
        }

        if (!Digests.IsValid(digest))
        {
            throw new ImageException(ImageErrorKind.Invalid, $"manifest {what} has a descriptor whose digest '{digest}' is not sha256: and 64 lowercase hex digits");
        }

        if (!element.TryGetProperty("size", out var sizeElement) || sizeElement.ValueKind != JsonValueKind.Number
            || !sizeElement.TryGetInt64(out var size) || size < 0)
        {
            throw new ImageException(ImageErrorKind.Invalid, $"manifest {what} has a descriptor ({digest}) without a valid size");
        }

        return new Descriptor(mediaType, digest!, size);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
