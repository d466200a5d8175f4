namespace Spherelet.Images.Store;

/// <summary>An image in the store. Its id is its config's digest.</summary>
public sealed record ImageRecord
{
    /// <summary>The config digest, <c>sha256:HEX</c>.</summary>
    public required string Id { get; init; }

    /// <summary>"registry/repo:tag" names pointing at this image.</summary>
    public required IReadOnlyList<string> RepoTags { get; init; }

    /// <summary>"registry/repo@sha256:..." names (the digest pulled: a manifest's, or an index's).</summary>
    public required IReadOnlyList<string> RepoDigests { get; init; }

    /// <summary>The platform manifest's digest.</summary>
    public required string ManifestDigest { get; init; }

    /// <summary>Compressed layers, bottom first.</summary>
    public required IReadOnlyList<Descriptor> Layers { get; init; }

    /// <summary>Bytes of the compressed layers and the config (what a pull transfers).</summary>
    public required long Size { get; init; }

    public required ImageConfigInfo Config { get; init; }

    /// <summary>Unix nanoseconds of the pull that stored it.</summary>
    public required long PulledAt { get; init; }
}
