using System.Collections.Concurrent;
using Spherelet.Domain.Errors;

namespace Spherelet.Domain.Sandboxes;

/// <summary>
/// The sandboxes in memory, each change checkpointed before it becomes visible. A
/// sandbox's value changes only through <see cref="UpdateAsync"/>, one change at a time.
/// </summary>
public sealed class SandboxStore
{
    private readonly ConcurrentDictionary<string, PodSandbox> _sandboxes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly ISandboxCheckpointStore _checkpoints;

    public SandboxStore(ISandboxCheckpointStore checkpoints)
    {
        _checkpoints = checkpoints;
    }

    public int Count => _sandboxes.Count;

    /// <summary>Checkpoints a new sandbox, then makes it visible.</summary>
    public async Task AddAsync(PodSandbox sandbox, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        await _checkpoints.SaveAsync(sandbox, cancellationToken);
        if (!_sandboxes.TryAdd(sandbox.Id, sandbox))
        {
            throw new ObjectAlreadyExistsException($"pod sandbox {sandbox.Id} exists");
        }
    }

    /// <summary>Loads a sandbox from its checkpoint at start (no write).</summary>
    public void Restore(PodSandbox sandbox)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        _sandboxes[sandbox.Id] = sandbox;
    }

    /// <summary>Finds a sandbox by full id or unique id prefix.</summary>
    /// <exception cref="ObjectNotFoundException">None, or the prefix is not unique.</exception>
    public PodSandbox Get(string idOrPrefix)
    {
        if (string.IsNullOrEmpty(idOrPrefix))
        {
            throw new InvalidRequestException("pod sandbox id must not be empty");
        }

        if (_sandboxes.TryGetValue(idOrPrefix, out var exact))
        {
            return exact;
        }

        var matches = _sandboxes.Values.Where(s => s.Id.StartsWith(idOrPrefix, StringComparison.Ordinal)).Take(2).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new ObjectNotFoundException($"pod sandbox {idOrPrefix} does not exist"),
            _ => throw new InvalidRequestException($"pod sandbox id prefix {idOrPrefix} is not unique"),
        };
    }

    public PodSandbox? Find(string id) => _sandboxes.TryGetValue(id, out var sandbox) ? sandbox : null;

    public PodSandbox? FindByVmName(string vmName) => _sandboxes.Values.FirstOrDefault(s => s.VmName == vmName);

    public IReadOnlyList<PodSandbox> List(SandboxFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return _sandboxes.Values.Where(filter.Matches).OrderBy(s => s.CreatedAt).ToList();
    }

    /// <summary>Changes a sandbox: <paramref name="change"/> gets the current value, the result is checkpointed and then visible.</summary>
    public async Task<PodSandbox> UpdateAsync(string id, Func<PodSandbox, PodSandbox> change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var gate = _locks.GetOrAdd(id, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            var current = _sandboxes.TryGetValue(id, out var found) ? found : throw new ObjectNotFoundException($"pod sandbox {id} does not exist");
            var next = change(current);
            if (!ReferenceEquals(next, current) && next != current)
            {
                await _checkpoints.SaveAsync(next, cancellationToken);
                _sandboxes[id] = next;
            }

            return next;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Deletes the checkpoint, then forgets the sandbox.</summary>
    public async Task RemoveAsync(string id, CancellationToken cancellationToken)
    {
        await _checkpoints.DeleteAsync(id, cancellationToken);
        _sandboxes.TryRemove(id, out _);
        _locks.TryRemove(id, out _);
    }
}
