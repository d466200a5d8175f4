using Spherelet.Domain.Vmm;

namespace Spherelet.Domain.Sandboxes;

/// <summary>
/// The one room of the code that owns the pods' shares on the host (the directory a pod VM sees at
/// /pod). The guest may be hostile, so a share is the agent's own tree exported read-only,
/// <c>nosuid,nodev</c>: the guest can write only inside the writable volumes its CRI request named.
/// Nothing here resolves a path through a directory the guest can write, follows a link below the
/// pod directory, or deletes across a mount.
/// </summary>
public interface IPodShares
{
    /// <summary>
    /// Makes the pod directory and its share (<see cref="SandboxLayout.Share"/>): the agent's tree,
    /// bound read-only, <c>nosuid,nodev</c>, as a mount of its own that passes binds made under it
    /// later on to a running VM.
    /// </summary>
    Task CreateAsync(string sandboxId, VmIdMap? idMap, CancellationToken cancellationToken);

    /// <summary>
    /// At recovery: the pod's share, made before the agent restarted, was made with <paramref name="idMap"/>
    /// (what is bound in it from now on is mapped the same way).
    /// </summary>
    void Adopt(string sandboxId, VmIdMap? idMap);

    /// <summary>
    /// Binds <paramref name="hostPath"/> (a directory or a file, resolved as the host resolves it) at
    /// <c>volumes/CONTAINER/INDEX</c> in the share, <c>nosuid,nodev</c>, writable or read-only as
    /// <paramref name="access"/> says; with <paramref name="followHost"/>, mounts the host makes under
    /// it later appear in it too (the bind then carries the mounts under it); otherwise the mounts
    /// under it now are bound one by one (<see cref="VolumeBind.Submounts"/>).
    /// </summary>
    Task<VolumeBind> BindVolumeAsync(string sandboxId, string containerId, int index, string hostPath, BindAccess access, bool followHost, CancellationToken cancellationToken);

    /// <summary>Detaches a container's volumes from the share and removes their mount points; none is fine.</summary>
    Task UnbindVolumesAsync(string sandboxId, string containerId);

    /// <summary>
    /// Binds the node's unpacked image layers <paramref name="layers"/> (their names in the image
    /// store) at <c>layers/NAME</c> in the share, read-only, <c>nosuid,nodev</c>; a layer bound
    /// already is left as it is. The pod sees only the layers its own containers were created from.
    /// </summary>
    Task BindLayersAsync(string sandboxId, IReadOnlyList<string> layers, CancellationToken cancellationToken);

    /// <summary>
    /// Detaches every mount below the pod directory and deletes it, never following a link and never
    /// descending into a mount; no directory is fine. Call it only once the VM is gone.
    /// </summary>
    /// <exception cref="IOException">Something could not be detached or deleted (left for the operator).</exception>
    Task RemoveAsync(string sandboxId);
}
