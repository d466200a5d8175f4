namespace Spherelet.Images.Registry;

/// <summary>What a bearer token was issued for: realm, service, scope and (a hash of) the credentials that asked.</summary>
internal readonly record struct TokenCacheKey(string Realm, string Service, string Scope, string Credentials);
