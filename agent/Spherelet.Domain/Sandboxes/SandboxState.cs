namespace Spherelet.Domain.Sandboxes;

/// <summary>
/// A sandbox's life:
/// <code>
///   RunPodSandbox ──► READY ──► NOTREADY ──► (removed)
///                       │  StopPodSandbox, VM stopped or destroyed,
///                       │  guest lost at recovery
///                       └──────────────────────────► RemovePodSandbox stops it first
/// </code>
/// A sandbox is READY only once its VM runs and CRX answered the handshake and took the
/// sandbox settings. It never goes back from NOTREADY to READY (the kubelet makes a new one).
/// </summary>
public enum SandboxState
{
    Ready = 0,
    NotReady = 1,
}
