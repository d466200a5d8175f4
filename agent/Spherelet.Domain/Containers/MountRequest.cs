namespace Spherelet.Domain.Containers;

/// <summary>A host path the request asks to mount into the container (not yet validated).</summary>
public sealed record MountRequest(string ContainerPath, string HostPath, bool ReadOnly, MountPropagation Propagation);
