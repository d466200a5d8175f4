using System.Text;

namespace Spherelet.Images.Registry;

/// <summary>
/// Pull credentials for one registry, as CRI's <c>AuthConfig</c> carries them: a username and password, an
/// OAuth2 refresh token (<see cref="IdentityToken"/>) exchanged at the registry's token endpoint, or a bearer
/// token (<see cref="RegistryToken"/>) sent as it is. <see cref="ToString"/> never shows a secret.
/// </summary>
/// <param name="ServerAddress">
/// The registry the credentials are for (CRI <c>server_address</c>): they are offered to that host only.
/// Null: to the registry the image names (and to its mirrors only where configured so).
/// </param>
public sealed record RegistryCredentials(string? Username, string? Password, string? IdentityToken, string? RegistryToken, string? ServerAddress = null)
{
    /// <summary>Builds credentials from CRI <c>AuthConfig</c> fields; <c>auth</c> is base64 of <c>user:password</c>, used when no username is given.</summary>
    /// <returns>The credentials, or null when every field is empty (an anonymous pull).</returns>
    /// <exception cref="ImageException">Invalid: <c>auth</c> is not base64 of <c>user:password</c>.</exception>
    public static RegistryCredentials? FromAuthConfig(string? username, string? password, string? auth, string? identityToken, string? registryToken, string? serverAddress = null)
    {
        var user = Empty(username);
        var pass = Empty(password);
        if (user is null && Empty(auth) is { } encoded)
        {
            (user, pass) = DecodeAuth(encoded);
        }

        var identity = Empty(identityToken);
        var token = Empty(registryToken);
        return user is null && pass is null && identity is null && token is null
            ? null
            : new RegistryCredentials(user, pass, identity, token, Empty(serverAddress));
    }

    /// <summary>Shows which kinds of credential are present, never their values.</summary>
    public override string ToString() =>
        $"RegistryCredentials {{ Username = {Username ?? "(none)"}, Password = {Mask(Password)}, IdentityToken = {Mask(IdentityToken)}, RegistryToken = {Mask(RegistryToken)}, ServerAddress = {ServerAddress ?? "(none)"} }}";

    private static (string? User, string? Password) DecodeAuth(string encoded)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded.Trim()));
        }
        catch (FormatException)
        {
            throw new ImageException(ImageErrorKind.Invalid, "the auth field of the pull credentials is not base64");
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new ImageException(ImageErrorKind.Invalid, "the auth field of the pull credentials is not base64 of 'username:password'");
        }

        return (decoded[..colon], Empty(decoded[(colon + 1)..]));
    }

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string Mask(string? secret) => secret is null ? "(none)" : "***";
}
