using Spherelet.Domain.Containers;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Domain.Events;

/// <summary>
/// One change of a container or a sandbox, with the pod as it was right then: its sandbox and
/// every container it still has (what the kubelet's evented PLEG builds the pod's status from,
/// even once the sandbox is gone).
/// </summary>
/// <param name="Id">The container's id, or the sandbox's for a sandbox's own event.</param>
/// <param name="CreatedAt">When it happened, in nanoseconds since the Unix epoch.</param>
public sealed record PodEvent(PodEventType Type, string Id, long CreatedAt, PodSandbox Sandbox, IReadOnlyList<Container> Containers);
