namespace Spherelet.Domain.Sandboxes;

/// <summary>
/// The namespaces a pod asked for beyond its own: the host's network, PID or IPC namespace
/// (hostNetwork, hostPID, hostIPC) or a user namespace of its own (hostUsers: false, its
/// mappings checked by the CRI layer and given to each container in the VM).
/// </summary>
public sealed record PodNamespaceRequest(bool HostNetwork, bool HostPid, bool HostIpc, bool UserNamespace)
{
    /// <summary>The pod's own namespaces only: what every pod VM is.</summary>
    public static readonly PodNamespaceRequest Isolated = new(false, false, false, false);
}
