using System.Collections;

namespace Spherelet.Streaming.Spdy;

/// <summary>
/// The name/value pairs of a SPDY header block, in the order they were added. Names are lowercase (they are
/// lowercased when added) and unique: a second value for a name joins the first after a NUL, as SPDY/3 sends
/// several values of one name.
/// </summary>
public sealed class SpdyHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private const char ValueSeparator = '\0';
    private readonly List<KeyValuePair<string, string>> _entries = [];

    /// <summary>How many names the block has.</summary>
    public int Count => _entries.Count;

    /// <summary>The first value of the name, or null when the block does not have it.</summary>
    public string? this[string name]
    {
        get
        {
            var raw = RawValue(name);
            if (raw is null)
            {
                return null;
            }

            var separator = raw.IndexOf(ValueSeparator, StringComparison.Ordinal);
            return separator < 0 ? raw : raw[..separator];
        }
    }

    /// <summary>Adds a value of a name (lowercased); a name already present gets the value after its others.</summary>
    public void Add(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        var lower = name.ToLowerInvariant();
        for (var i = 0; i < _entries.Count; i++)
        {
            if (string.Equals(_entries[i].Key, lower, StringComparison.Ordinal))
            {
                _entries[i] = new(lower, _entries[i].Value + ValueSeparator + value);
                return;
            }
        }

        _entries.Add(new(lower, value));
    }

    /// <summary>Every value of the name, in order; empty when the block does not have it.</summary>
    public IReadOnlyList<string> GetValues(string name) => RawValue(name)?.Split(ValueSeparator) ?? [];

    /// <summary>The pairs as they go on the wire: several values of a name are joined by NULs.</summary>
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private string? RawValue(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var entry in _entries)
        {
            if (string.Equals(entry.Key, name, StringComparison.OrdinalIgnoreCase))
            {
                return entry.Value;
            }
        }

        return null;
    }
}
