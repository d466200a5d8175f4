namespace Spherelet.Images.Store;

/// <summary>OCI digests as Spherelet accepts them: <c>sha256:</c> and 64 lowercase hex digits.</summary>
public static class Digests
{
    public const string Sha256Prefix = "sha256:";

    public static bool IsValid(string? digest) =>
        digest is { Length: 71 }
        && digest.StartsWith(Sha256Prefix, StringComparison.Ordinal)
        && digest.AsSpan(7).ToString().All(c => c is (>= '0' and <= '9') or (>= 'a' and <= 'f'));

    /// <returns>The 64 hex digits.</returns>
    /// <exception cref="ImageException">Invalid: not a sha256 digest.</exception>
    public static string Hex(string digest) =>
        IsValid(digest) ? digest[7..] : throw new ImageException(ImageErrorKind.Invalid, $"'{digest}' is not a sha256 digest");

    public static string Of(ReadOnlySpan<byte> content) =>
        Sha256Prefix + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
}
