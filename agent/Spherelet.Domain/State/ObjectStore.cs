using System.Collections.Concurrent;
using Spherelet.Domain.Errors;

namespace Spherelet.Domain.State;

/// <summary>
/// Immutable objects in memory by id, each change checkpointed before it becomes visible
/// (containerd's store pattern). An object's value changes only through
/// <see cref="UpdateAsync"/>, one change at a time per object.
/// </summary>
/// <typeparam name="T">An immutable record; the store swaps whole values.</typeparam>
public class ObjectStore<T>
    where T : class
{
    private readonly ConcurrentDictionary<string, T> _objects = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly string _kind;
    private readonly Func<T, string> _id;
    private readonly Func<T, CancellationToken, Task> _save;
    private readonly Func<T, CancellationToken, Task> _delete;

    /// <param name="kind">What the objects are called in errors ("pod sandbox", "container").</param>
    /// <param name="id">The object's id.</param>
    /// <param name="save">Writes the object's checkpoint (atomically).</param>
    /// <param name="delete">Deletes the object's checkpoint; a missing one is fine.</param>
    public ObjectStore(string kind, Func<T, string> id, Func<T, CancellationToken, Task> save, Func<T, CancellationToken, Task> delete)
    {
        _kind = kind;
        _id = id;
        _save = save;
        _delete = delete;
    }

    public int Count => _objects.Count;

    /// <summary>Checkpoints a new object, then makes it visible.</summary>
    public async Task AddAsync(T value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(value);
        var id = _id(value);
        if (_objects.ContainsKey(id))
        {
            throw new ObjectAlreadyExistsException($"{_kind} {id} exists");
        }

        await _save(value, cancellationToken);
        if (!_objects.TryAdd(id, value))
        {
            throw new ObjectAlreadyExistsException($"{_kind} {id} exists");
        }
    }

    /// <summary>Loads an object from its checkpoint at start (no write).</summary>
    public void Restore(T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _objects[_id(value)] = value;
    }

    /// <summary>Finds an object by full id or unique id prefix.</summary>
    /// <exception cref="ObjectNotFoundException">None.</exception>
    /// <exception cref="InvalidRequestException">An empty id, or a prefix that is not unique.</exception>
    public T Get(string idOrPrefix) =>
        FindByIdOrPrefix(idOrPrefix) ?? throw new ObjectNotFoundException($"{_kind} {idOrPrefix} does not exist");

    /// <summary>Finds an object by full id or unique id prefix; null when there is none (what idempotent Stop and Remove want).</summary>
    /// <exception cref="InvalidRequestException">An empty id, or a prefix that is not unique.</exception>
    public T? FindByIdOrPrefix(string idOrPrefix)
    {
        if (string.IsNullOrEmpty(idOrPrefix))
        {
            throw new InvalidRequestException($"{_kind} id must not be empty");
        }

        if (_objects.TryGetValue(idOrPrefix, out var exact))
        {
            return exact;
        }

        var matches = _objects.Where(o => o.Key.StartsWith(idOrPrefix, StringComparison.Ordinal)).Take(2).ToList();
        return matches.Count switch
        {
            1 => matches[0].Value,
            0 => null,
            _ => throw new InvalidRequestException($"{_kind} id prefix {idOrPrefix} is not unique"),
        };
    }

    public T? Find(string id) => _objects.TryGetValue(id, out var value) ? value : null;

    /// <summary>The objects that match, in no particular order.</summary>
    public IEnumerable<T> Where(Func<T, bool> predicate) => _objects.Values.Where(predicate);

    /// <summary>Changes an object: <paramref name="change"/> gets the current value, the result is checkpointed and then visible.</summary>
    /// <exception cref="ObjectNotFoundException">The object is gone.</exception>
    public async Task<T> UpdateAsync(string id, Func<T, T> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var gate = _locks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var current = _objects.TryGetValue(id, out var found) ? found : throw new ObjectNotFoundException($"{_kind} {id} does not exist");
            var next = change(current);
            if (!ReferenceEquals(next, current) && !next.Equals(current))
            {
                await _save(next, cancellationToken);
                _objects[id] = next;
            }

            return next;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Deletes the checkpoint, then forgets the object. Removing an unknown id does nothing. Taken
    /// in turn with <see cref="UpdateAsync"/>: an update that was under way finishes first, and one
    /// that waited finds the object gone (it never brings a removed object back).
    /// </summary>
    public async Task RemoveAsync(string id, CancellationToken cancellationToken)
    {
        var gate = _locks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (_objects.TryGetValue(id, out var value))
            {
                await _delete(value, cancellationToken);
                _objects.TryRemove(id, out _);
            }
        }
        finally
        {
            gate.Release();
        }

        _locks.TryRemove(id, out _);
    }
}
