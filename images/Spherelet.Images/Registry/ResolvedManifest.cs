namespace Spherelet.Images.Registry;

/// <summary>
/// An image manifest fetched and verified: its digest, media type and exact bytes, the config and layer
/// descriptors it lists, and the digest of the index (manifest list) it was chosen from, if any.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1819:Properties should not return arrays", Justification = "the exact manifest bytes, stored as they are")]
public sealed record ResolvedManifest(
    string ManifestDigest,
    string MediaType,
    byte[] ManifestBytes,
    Descriptor Config,
    IReadOnlyList<Descriptor> Layers,
    string? IndexDigest);
