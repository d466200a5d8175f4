namespace Spherelet.Domain.Containers;

/// <summary>The kubelet's identity of a container within its pod: name and restart attempt.</summary>
public sealed record ContainerMetadata(string Name, uint Attempt)
{
    /// <summary>The name reserved for the container: unique per pod sandbox, name and attempt.</summary>
    public string ReservationKey(string sandboxId) => $"{sandboxId}/{Name}_{Attempt}";
}
