namespace Spherelet.Domain.Containers;

/// <summary>The usage of a pod VM as a whole and of its containers, by container id.</summary>
public sealed record PodUsage(ResourceUsage Vm, ulong VmMemoryTotalBytes, IReadOnlyDictionary<string, ResourceUsage> Containers)
{
    /// <summary>The VM's network interfaces (the pod's network namespace), by name.</summary>
    public IReadOnlyList<InterfaceUsage> Interfaces { get; init; } = [];
}
