namespace Spherelet.Images.Unpacking;

/// <summary>
/// Names inside a layer, as the unpacker accepts them: relative, no <c>..</c> component, no NUL.
/// Empty and <c>.</c> components are dropped, so <c>./usr//bin/</c> is <c>usr/bin</c> and <c>./</c> is the layer root (<c>""</c>).
/// </summary>
internal static class LayerPath
{
    /// <summary>Normalizes <paramref name="name"/>; false with the reason it is refused.</summary>
    public static bool TryNormalize(string? name, out string relative, out string reason)
    {
        relative = "";
        reason = "";
        if (string.IsNullOrEmpty(name))
        {
            reason = "the name is empty";
            return false;
        }

        if (name.Contains('\0', StringComparison.Ordinal))
        {
            reason = "the name contains a NUL byte";
            return false;
        }

        if (name[0] == '/')
        {
            reason = "the name is an absolute path";
            return false;
        }

        var kept = new List<string>();
        foreach (var component in name.Split('/'))
        {
            if (component is "" or ".")
            {
                continue;
            }

            if (component == "..")
            {
                reason = "the name has a '..' component";
                return false;
            }

            kept.Add(component);
        }

        relative = string.Join('/', kept);
        return true;
    }

    /// <summary>The parent of a normalized relative path (<c>""</c> for a top-level name).</summary>
    public static string Parent(string relative)
    {
        var slash = relative.LastIndexOf('/');
        return slash < 0 ? "" : relative[..slash];
    }

    /// <summary>The last component of a normalized relative path.</summary>
    public static string FileName(string relative) => relative[(relative.LastIndexOf('/') + 1)..];

    /// <summary>Joins a normalized parent and a single component.</summary>
    public static string Combine(string parent, string name) => parent.Length == 0 ? name : parent + "/" + name;
}
