namespace Spherelet.Domain.Containers;

/// <summary>A host path the request asks to mount into the container (not yet validated).</summary>
/// <param name="RecursiveReadOnly">Read-only with every mount under the host path (only with <paramref name="ReadOnly"/> and private propagation).</param>
public sealed record MountRequest(string ContainerPath, string HostPath, bool ReadOnly, MountPropagation Propagation, bool RecursiveReadOnly = false);
