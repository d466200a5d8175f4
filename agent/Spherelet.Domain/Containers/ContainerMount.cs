namespace Spherelet.Domain.Containers;

/// <summary>A host path mounted into a container.</summary>
/// <param name="ContainerPath">Where the container sees it (absolute).</param>
/// <param name="HostPath">The file or directory on the host (absolute, existing).</param>
/// <param name="GuestPath">Where the pod VM sees it: the bind mount in the pod share, under /pod.</param>
/// <param name="RecursiveReadOnly">Read-only with every mount under the host path too.</param>
/// <param name="Submounts">The mounts under the host path, each bound into the share on its own (parents first); none with HostToContainer propagation, whose bind carries them.</param>
public sealed record ContainerMount(string ContainerPath, string HostPath, bool ReadOnly, MountPropagation Propagation, string GuestPath, bool RecursiveReadOnly = false)
{
    public IReadOnlyList<ContainerSubmount> Submounts { get; init; } = [];

    /// <summary>Equal when every field is, the submounts compared element by element.</summary>
    public bool Equals(ContainerMount? other) =>
        other is not null
        && ContainerPath == other.ContainerPath
        && HostPath == other.HostPath
        && ReadOnly == other.ReadOnly
        && Propagation == other.Propagation
        && GuestPath == other.GuestPath
        && RecursiveReadOnly == other.RecursiveReadOnly
        && Submounts.SequenceEqual(other.Submounts);

    public override int GetHashCode() => HashCode.Combine(ContainerPath, HostPath, ReadOnly, Propagation, GuestPath, RecursiveReadOnly, Submounts.Count);
}
