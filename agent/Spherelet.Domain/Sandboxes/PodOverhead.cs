namespace Spherelet.Domain.Sandboxes;

/// <summary>
/// A pod's RuntimeClass overhead (<c>overhead.podFixed</c>): what the kubelet reserves in the pod's
/// cgroup beyond its containers, here the cost of the VM itself (QEMU, the guest kernel and CRX).
/// </summary>
/// <param name="CpuMillis">CPU in millicores (from CFS quota over period, else from shares).</param>
/// <param name="MemoryBytes">Memory in bytes.</param>
public sealed record PodOverhead(long CpuMillis, long MemoryBytes)
{
    public static readonly PodOverhead None = new(0, 0);
}
