using Spherelet.Domain.Containers;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Domain.Pods;

/// <summary>
/// The one room that owns a pod's whole lifecycle, what CRI's RunPodSandbox, StopPodSandbox and
/// RemovePodSandbox ask: the sandbox (its VM, share, network and guest) and its containers, in
/// order. The sandbox and container services each do their own part and never call into the
/// pod's other part for it; a warm pool of VMs would be one more step here.
/// </summary>
public sealed class PodLifecycle
{
    private readonly SandboxService _sandboxes;
    private readonly ContainerService _containers;

    public PodLifecycle(SandboxService sandboxes, ContainerService containers)
    {
        _sandboxes = sandboxes;
        _containers = containers;
    }

    /// <summary>Boots the pod's VM and returns the new sandbox's id once CRX has answered and taken its settings.</summary>
    public Task<string> RunAsync(RunPodSandboxCommand command, CancellationToken cancellationToken) =>
        _sandboxes.RunAsync(command, cancellationToken);

    /// <summary>
    /// Stops a pod: its running containers are killed (their exits recorded), then its VM is
    /// stopped. Stopping an unknown pod succeeds.
    /// </summary>
    public async Task StopAsync(string sandboxIdOrPrefix, CancellationToken cancellationToken)
    {
        if (Find(sandboxIdOrPrefix) is { } sandbox)
        {
            await StopFoundAsync(sandbox.Id, cancellationToken);
        }
    }

    /// <summary>Removes a pod: stopped as <see cref="StopAsync"/> does, its containers removed, then the sandbox. Removing an unknown pod succeeds.</summary>
    public async Task RemoveAsync(string sandboxIdOrPrefix, CancellationToken cancellationToken)
    {
        if (Find(sandboxIdOrPrefix) is not { } sandbox)
        {
            return;
        }

        await StopFoundAsync(sandbox.Id, cancellationToken);
        await _containers.RemoveAllOfPodAsync(sandbox.Id, cancellationToken);
        await _sandboxes.RemoveAsync(sandbox.Id, cancellationToken);
    }

    /// <summary>The pod's running containers killed (their exits recorded), then its VM stopped.</summary>
    private async Task StopFoundAsync(string sandboxId, CancellationToken cancellationToken)
    {
        await _containers.StopAllOfPodAsync(sandboxId, cancellationToken);
        await _sandboxes.StopAsync(sandboxId, cancellationToken);
    }

    private PodSandbox? Find(string sandboxIdOrPrefix)
    {
        try
        {
            return _sandboxes.Get(sandboxIdOrPrefix);
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
    }
}
