namespace Spherelet.Images.Registry;

/// <summary>A bearer token from a token endpoint and when to stop using it.</summary>
internal sealed record CachedToken(string Token, DateTimeOffset ExpiresAt);
