using Spherelet.Images.Store;

namespace Spherelet.Images;

/// <summary>
/// A normalised image reference: registry host, repository path, and a tag, a digest or both.
/// <see cref="Parse"/> normalises like the kubelet and containerd (docker/distribution's
/// <c>ParseNormalizedNamed</c>): <c>busybox</c> is <c>docker.io/library/busybox:latest</c>.
/// </summary>
public sealed record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    /// <summary>The registry that names without a registry host belong to.</summary>
    public const string DefaultRegistry = "docker.io";

    /// <summary>The tag a reference without tag and digest gets.</summary>
    public const string DefaultTag = "latest";

    private const string LegacyDefaultRegistry = "index.docker.io";
    private const string OfficialRepositoryPrefix = "library/";

    /// <summary><c>registry/repository:tag</c>, or empty when the reference has no tag.</summary>
    public string RepoTag => Tag is null ? string.Empty : $"{Registry}/{Repository}:{Tag}";

    /// <summary>
    /// Parses and normalises a reference: <c>busybox</c> becomes <c>docker.io/library/busybox:latest</c>, <c>user/app</c>
    /// becomes <c>docker.io/user/app:latest</c>, <c>127.0.0.1:5000/x/y:1</c> is kept; a reference with a digest keeps
    /// the tag only when it names one (<c>name@sha256:...</c> has none).
    /// </summary>
    /// <exception cref="ImageException">Invalid: the reference does not follow the distribution grammar.</exception>
    public static ImageReference Parse(string reference)
    {
        if (string.IsNullOrEmpty(reference))
        {
            throw Invalid(reference, "the reference is empty");
        }

        var name = reference;
        string? digest = null;
        var at = name.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            digest = name[(at + 1)..];
            name = name[..at];
            ValidateDigest(reference, digest);
        }

        string? tag = null;
        var lastColon = name.LastIndexOf(':');
        if (lastColon > name.LastIndexOf('/'))
        {
            tag = name[(lastColon + 1)..];
            name = name[..lastColon];
            if (!ReferenceGrammar.Tag().IsMatch(tag))
            {
                throw Invalid(reference, $"'{Shorten(tag)}' is not a valid tag (letters, digits, '_', '.' and '-', at most 128, not starting with '.' or '-')");
            }
        }

        if (name.Length == 0)
        {
            throw Invalid(reference, "the repository name is empty");
        }

        if (ReferenceGrammar.Identifier().IsMatch(name))
        {
            throw Invalid(reference, "a 64-character hexadecimal string is an image ID, not a repository name");
        }

        var (registry, repository) = SplitRegistry(name);
        if (!ReferenceGrammar.Domain().IsMatch(registry))
        {
            throw Invalid(reference, $"'{Shorten(registry)}' is not a valid registry host[:port]");
        }

        if (repository.Any(char.IsAsciiLetterUpper))
        {
            throw Invalid(reference, "the repository name must be lowercase");
        }

        if (!ReferenceGrammar.Path().IsMatch(repository))
        {
            throw Invalid(reference, $"'{Shorten(repository)}' is not a valid repository name (lowercase letters and digits, separated by '/', '.', '_', '__' or '-')");
        }

        if (registry.Length + 1 + repository.Length > ReferenceGrammar.MaxNameLength)
        {
            throw Invalid(reference, $"the repository name is longer than {ReferenceGrammar.MaxNameLength} characters");
        }

        return new ImageReference(registry, repository, tag ?? (digest is null ? DefaultTag : null), digest);
    }

    /// <summary><c>registry/repository@digest</c>.</summary>
    public string RepoDigest(string digest) => $"{Registry}/{Repository}@{digest}";

    /// <summary>The canonical form: <c>registry/repo:tag</c>, <c>registry/repo@digest</c> or <c>registry/repo:tag@digest</c>.</summary>
    public override string ToString() =>
        $"{Registry}/{Repository}{(Tag is null ? string.Empty : ":" + Tag)}{(Digest is null ? string.Empty : "@" + Digest)}";

    private static (string Registry, string Repository) SplitRegistry(string name)
    {
        // The first component is a registry host when it looks like one: it has a dot or a port, is "localhost",
        // or has uppercase letters (which no repository may have). Otherwise the name is on Docker Hub.
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        string registry;
        string repository;
        if (slash < 0)
        {
            (registry, repository) = (DefaultRegistry, name);
        }
        else
        {
            var first = name[..slash];
            var isHost = first.Contains('.', StringComparison.Ordinal)
                || first.Contains(':', StringComparison.Ordinal)
                || first == "localhost"
                || first.Any(char.IsAsciiLetterUpper);
            (registry, repository) = isHost ? (first, name[(slash + 1)..]) : (DefaultRegistry, name);
        }

        if (registry == LegacyDefaultRegistry)
        {
            registry = DefaultRegistry;
        }

        if (registry == DefaultRegistry && !repository.Contains('/', StringComparison.Ordinal))
        {
            repository = OfficialRepositoryPrefix + repository;
        }

        return (registry, repository);
    }

    private static void ValidateDigest(string reference, string digest)
    {
        if (Digests.IsValid(digest))
        {
            return;
        }

        if (ReferenceGrammar.AnyDigest().IsMatch(digest) && !digest.StartsWith(Digests.Sha256Prefix, StringComparison.Ordinal))
        {
            throw Invalid(reference, $"digest algorithm '{Shorten(digest[..digest.IndexOf(':', StringComparison.Ordinal)])}' is not supported (only sha256)");
        }

        throw Invalid(reference, $"'{Shorten(digest)}' is not a valid digest (sha256: and 64 lowercase hex digits)");
    }

    private static ImageException Invalid(string? reference, string why) =>
        new(ImageErrorKind.Invalid, $"invalid image reference '{Shorten(reference ?? string.Empty)}': {why}");

    private static string Shorten(string text) => text.Length <= 300 ? text : string.Concat(text.AsSpan(0, 300), "...");
}
