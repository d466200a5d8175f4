using System.Collections.Concurrent;
using System.Security.Cryptography;
using Spherelet.Domain.Streaming;

namespace Spherelet.Streaming;

/// <summary>
/// The requests behind streaming URLs, each under a token of 32 random bytes (base64url): a
/// token can be used once, and not after it expires. Expired entries are dropped as new ones
/// come in, so the cache holds no more than the requests of the last time-to-live.
/// </summary>
public sealed class StreamRequestCache
{
    private readonly ConcurrentDictionary<string, (StreamRequest Request, DateTimeOffset Expires)> _entries = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;
    private readonly TimeSpan _ttl;

    public StreamRequestCache(TimeProvider time, TimeSpan ttl)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);
        _time = time;
        _ttl = ttl;
    }

    /// <summary>How many requests wait for their URL to be used.</summary>
    public int Count => _entries.Count;

    /// <summary>Keeps the request and returns its new token.</summary>
    public string Insert(StreamRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = _time.GetUtcNow();
        foreach (var expired in _entries.Where(e => e.Value.Expires <= now).Select(e => e.Key).ToList())
        {
            _entries.TryRemove(expired, out _);
        }

        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _entries[token] = (request, now + _ttl);
        return token;
    }

    /// <summary>The request of the token, taken out (a second use finds nothing); null when the token is unknown, used or expired.</summary>
    public StreamRequest? Take(string token)
    {
        if (!_entries.TryRemove(token, out var entry))
        {
            return null;
        }

        return entry.Expires > _time.GetUtcNow() ? entry.Request : null;
    }
}
