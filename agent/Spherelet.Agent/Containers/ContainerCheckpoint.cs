using Spherelet.Domain.Containers;

namespace Spherelet.Agent.Containers;

/// <summary>The file form of a container: a version, then the container.</summary>
public sealed record ContainerCheckpoint(int Version, Container Container);
