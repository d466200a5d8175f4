using System.Text.RegularExpressions;

namespace Spherelet.Images;

/// <summary>The distribution reference grammar (github.com/distribution/reference), as regular expressions.</summary>
internal static partial class ReferenceGrammar
{
    /// <summary>The longest repository name, registry host included, that the grammar allows.</summary>
    public const int MaxNameLength = 255;

    /// <summary><c>host[:port]</c>: DNS labels separated by dots (IPv4 fits), or an IPv6 address in brackets.</summary>
    [GeneratedRegex(@"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:.]+\])(?::[0-9]{1,5})?$", RegexOptions.CultureInvariant)]
    public static partial Regex Domain();

    /// <summary>Path components of lowercase letters and digits, joined by <c>.</c>, <c>_</c>, <c>__</c> or dashes, separated by slashes.</summary>
    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    public static partial Regex Path();

    /// <summary>A tag: a word character, then up to 127 word characters, dots or dashes.</summary>
    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant)]
    public static partial Regex Tag();

    /// <summary>Any digest the grammar allows (<c>algorithm:encoded</c>); Spherelet supports only sha256.</summary>
    [GeneratedRegex(@"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$", RegexOptions.CultureInvariant)]
    public static partial Regex AnyDigest();

    /// <summary>64 hex digits alone: an image ID, which the grammar refuses as a name.</summary>
    [GeneratedRegex("^[a-f0-9]{64}$", RegexOptions.CultureInvariant)]
    public static partial Regex Identifier();
}
