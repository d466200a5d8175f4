namespace Spherelet.Domain.Events;

/// <summary>What happened to a container or to a pod's sandbox (CRI's ContainerEventType: a sandbox's events carry its id as the container's).</summary>
public enum PodEventType
{
    Created,
    Started,
    Stopped,
    Deleted,
}
