using System.Text;

namespace Spherelet.Images.Registry;

/// <summary>One challenge of a <c>WWW-Authenticate</c> header: a scheme (<c>Basic</c>, <c>Bearer</c>) and its parameters.</summary>
internal sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public bool IsBearer => string.Equals(Scheme, "Bearer", StringComparison.OrdinalIgnoreCase);

    public bool IsBasic => string.Equals(Scheme, "Basic", StringComparison.OrdinalIgnoreCase);

    public string? Realm => Parameters.GetValueOrDefault("realm");

    public string? Service => Parameters.GetValueOrDefault("service");

    public string? Scope => Parameters.GetValueOrDefault("scope");

    /// <summary>The challenge to answer from a 401 response: Bearer when offered, else Basic, else the first one.</summary>
    public static AuthChallenge? Select(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("WWW-Authenticate", out var values))
        {
            return null;
        }

        var all = values.SelectMany(ParseAll).ToList();
        return all.FirstOrDefault(c => c.IsBearer) ?? all.FirstOrDefault(c => c.IsBasic) ?? all.FirstOrDefault();
    }

    /// <summary>Parses <c>Scheme k=v, k="quoted, value", Other k=v</c> into its challenges (RFC 9110 section 11.6.1).</summary>
    public static IReadOnlyList<AuthChallenge> ParseAll(string header)
    {
        var challenges = new List<AuthChallenge>();
        Dictionary<string, string>? parameters = null;
        var i = 0;
        while (i < header.Length)
        {
            while (i < header.Length && (header[i] is ',' || char.IsWhiteSpace(header[i])))
            {
                i++;
            }

            var start = i;
            while (i < header.Length && header[i] is not (',' or '=') && !char.IsWhiteSpace(header[i]))
            {
                i++;
            }

            var token = header[start..i];
            if (token.Length == 0)
            {
                break;
            }

            var afterToken = i;
            while (i < header.Length && header[i] == ' ')
            {
                i++;
            }

            if (i < header.Length && header[i] == '=' && parameters is not null)
            {
                i++;
                while (i < header.Length && header[i] == ' ')
                {
                    i++;
                }

                parameters[token] = ReadValue(header, ref i);
                continue;
            }

            i = afterToken;
            parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            challenges.Add(new AuthChallenge(token, parameters));
        }

        return challenges;
    }

    private static string ReadValue(string header, ref int i)
    {
        if (i < header.Length && header[i] == '"')
        {
            var value = new StringBuilder();
            for (i++; i < header.Length && header[i] != '"'; i++)
            {
                if (header[i] == '\\' && i + 1 < header.Length)
                {
                    i++;
                }

                value.Append(header[i]);
            }

            i++;
            return value.ToString();
        }

        var start = i;
        while (i < header.Length && header[i] != ',' && !char.IsWhiteSpace(header[i]))
        {
            i++;
        }

        return header[start..i];
    }
}
