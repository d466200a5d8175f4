namespace Spherelet.Domain.Containers;

/// <summary>ListContainers' filter: every given condition must hold.</summary>
/// <param name="Id">A full id or a prefix of one.</param>
/// <param name="SandboxId">A full sandbox id or a prefix of one.</param>
/// <param name="LabelSelector">Labels the container must carry with these values.</param>
public sealed record ContainerFilter(string? Id, string? SandboxId, ContainerState? State, IReadOnlyDictionary<string, string>? LabelSelector)
{
    public static ContainerFilter All { get; } = new(null, null, null, null);

    public bool Matches(Container container)
    {
        ArgumentNullException.ThrowIfNull(container);
        return (string.IsNullOrEmpty(Id) || container.Id.StartsWith(Id, StringComparison.Ordinal))
            && (string.IsNullOrEmpty(SandboxId) || container.SandboxId.StartsWith(SandboxId, StringComparison.Ordinal))
            && (State is null || container.State == State)
            && (LabelSelector is null || LabelSelector.All(l => container.Labels.TryGetValue(l.Key, out var v) && v == l.Value));
    }
}
