namespace Spherelet.Domain.Containers;

/// <summary>
/// A container's life:
/// <code>
///   CreateContainer ──► CREATED ──StartContainer──► RUNNING ──► EXITED ──► (removed)
///                          │                                  ▲   process exited, StopContainer,
///                          │                                  │   the pod VM stopped
///                          └──────────── RemoveContainer ─────┴──────────► (removed)
/// </code>
/// The exit code and reason are those CRX reported for the process; a container whose pod
/// VM went away without telling is EXITED with exit code 255 and reason <c>Error</c>.
/// UNKNOWN is used only when the agent could not learn what happened.
/// </summary>
public enum ContainerState
{
    Created = 0,
    Running = 1,
    Exited = 2,
    Unknown = 3,
}
