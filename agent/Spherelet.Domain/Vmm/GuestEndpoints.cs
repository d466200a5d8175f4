using System.Collections.Concurrent;
using Spherelet.Domain.Errors;

namespace Spherelet.Domain.Vmm;

/// <summary>
/// The guest endpoint of each pod, by sandbox id: registered when the pod's backend has started its
/// VM (or at recovery, from the checkpoint), looked up by every call into the guest, forgotten
/// when the pod is removed. The guest rooms take nothing else to find a pod's CRX.
/// </summary>
public sealed class GuestEndpoints
{
    private readonly ConcurrentDictionary<string, GuestEndpoint> _endpoints = new(StringComparer.Ordinal);

    public void Register(string sandboxId, GuestEndpoint endpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(sandboxId);
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoints[sandboxId] = endpoint;
    }

    /// <summary>The pod's endpoint.</summary>
    /// <exception cref="GuestUnavailableException">The pod has none: its VM was never started by this agent, or the pod is gone.</exception>
    public GuestEndpoint Get(string sandboxId) =>
        _endpoints.TryGetValue(sandboxId, out var endpoint)
            ? endpoint
            : throw new GuestUnavailableException($"pod sandbox {sandboxId} has no guest endpoint: its VM is not running");

    public void Remove(string sandboxId) => _endpoints.TryRemove(sandboxId, out _);
}
