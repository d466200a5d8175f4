namespace Spherelet.Domain.Sandboxes;

/// <summary>ListPodSandbox's filter: every given condition must hold.</summary>
/// <param name="Id">A full id or a prefix of one.</param>
/// <param name="LabelSelector">Labels the sandbox must carry with these values.</param>
public sealed record SandboxFilter(string? Id, SandboxState? State, IReadOnlyDictionary<string, string>? LabelSelector)
{
    public static SandboxFilter All { get; } = new(null, null, null);

    public bool Matches(PodSandbox sandbox)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        return (string.IsNullOrEmpty(Id) || sandbox.Id.StartsWith(Id, StringComparison.Ordinal))
            && (State is null || sandbox.State == State)
            && (LabelSelector is null || LabelSelector.All(l => sandbox.Labels.TryGetValue(l.Key, out var v) && v == l.Value));
    }
}
