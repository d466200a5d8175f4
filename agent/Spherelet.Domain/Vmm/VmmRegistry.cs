using Spherelet.Domain.Errors;

namespace Spherelet.Domain.Vmm;

/// <summary>
/// The VMM backends this agent runs pod VMs with, by name (<c>libvirt</c>, <c>microvm</c>): each
/// runtime handler names one, and each sandbox records the one its VM was started by, so pods of
/// several backends run side by side and each is stopped, grown and recovered by its own.
/// </summary>
public sealed class VmmRegistry
{
    private readonly Dictionary<string, IVmm> _backends;

    public VmmRegistry(IEnumerable<IVmm> backends)
    {
        ArgumentNullException.ThrowIfNull(backends);
        _backends = new Dictionary<string, IVmm>(StringComparer.Ordinal);
        foreach (var backend in backends)
        {
            if (!_backends.TryAdd(backend.Name, backend))
            {
                throw new ArgumentException($"two VMM backends are named '{backend.Name}'", nameof(backends));
            }
        }
    }

    public IReadOnlyCollection<IVmm> All => _backends.Values;

    public bool Contains(string name) => _backends.ContainsKey(name);

    /// <summary>The backend of that name, or null when this agent runs none (a sandbox of a backend no handler names any more).</summary>
    public IVmm? Find(string name) => _backends.GetValueOrDefault(name);

    /// <summary>The backend of that name.</summary>
    /// <exception cref="PreconditionFailedException">This agent runs no backend of that name (a sandbox of a backend no handler names any more).</exception>
    public IVmm Get(string name) =>
        _backends.TryGetValue(name, out var backend)
            ? backend
            : throw new PreconditionFailedException(
                $"VMM backend '{name}' is not running on this agent (running: {string.Join(", ", _backends.Keys.Order(StringComparer.Ordinal))}); configure a runtime handler with Vmm '{name}'");
}
