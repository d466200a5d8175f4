namespace Spherelet.Domain.Containers;

/// <summary>A host path mounted into a container.</summary>
/// <param name="ContainerPath">Where the container sees it (absolute).</param>
/// <param name="HostPath">The file or directory on the host (absolute, existing).</param>
/// <param name="GuestPath">Where the pod VM sees it: the bind mount in the pod share, under /pod.</param>
/// <param name="RecursiveReadOnly">Read-only with every mount under the host path too.</param>
public sealed record ContainerMount(string ContainerPath, string HostPath, bool ReadOnly, MountPropagation Propagation, string GuestPath, bool RecursiveReadOnly = false);
