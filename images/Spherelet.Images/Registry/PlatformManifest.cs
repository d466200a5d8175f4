namespace Spherelet.Images.Registry;

/// <summary>One entry of an index (manifest list): the manifest's descriptor and the platform it is for.</summary>
internal sealed record PlatformManifest(Descriptor Manifest, string? Os, string? Architecture, string? Variant)
{
    public string Platform => Variant is null ? $"{Os ?? "?"}/{Architecture ?? "?"}" : $"{Os ?? "?"}/{Architecture ?? "?"}/{Variant}";
}
