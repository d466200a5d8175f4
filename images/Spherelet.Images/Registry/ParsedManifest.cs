namespace Spherelet.Images.Registry;

/// <summary>
/// A manifest's JSON reduced to what pulling needs: an image manifest has <see cref="Config"/> and
/// <see cref="Layers"/>; an index (manifest list) has <see cref="Manifests"/>.
/// </summary>
internal sealed record ParsedManifest(
    string MediaType,
    Descriptor? Config,
    IReadOnlyList<Descriptor> Layers,
    IReadOnlyList<PlatformManifest> Manifests)
{
    public bool IsIndex => ManifestMediaTypes.IsIndex(MediaType);

    /// <summary>The linux/amd64 entry of an index: one without a variant (or <c>v1</c>) first, else any amd64 variant.</summary>
    public PlatformManifest? SelectLinuxAmd64()
    {
        var candidates = Manifests.Where(m => m.Os == "linux" && m.Architecture == "amd64").ToList();
        return candidates.FirstOrDefault(m => m.Variant is null or "v1") ?? candidates.FirstOrDefault();
    }
}
