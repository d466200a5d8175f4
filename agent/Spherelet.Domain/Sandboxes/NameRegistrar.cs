using System.Collections.Concurrent;
using Spherelet.Domain.Errors;

namespace Spherelet.Domain.Sandboxes;

/// <summary>Reserves names before any work starts, so two requests for one name cannot both proceed.</summary>
public sealed class NameRegistrar
{
    private readonly ConcurrentDictionary<string, string> _owners = new(StringComparer.Ordinal);

    /// <exception cref="ObjectAlreadyExistsException">Another object holds the name.</exception>
    public void Reserve(string name, string owner)
    {
        var holder = _owners.GetOrAdd(name, owner);
        if (holder != owner)
        {
            throw new ObjectAlreadyExistsException($"the name '{name}' is reserved for {holder}");
        }
    }

    /// <summary>Releases the name if <paramref name="owner"/> holds it.</summary>
    public void Release(string name, string owner) =>
        _owners.TryRemove(new KeyValuePair<string, string>(name, owner));
}
