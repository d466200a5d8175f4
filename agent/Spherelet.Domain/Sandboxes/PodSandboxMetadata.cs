namespace Spherelet.Domain.Sandboxes;

/// <summary>Who the pod is in Kubernetes: the kubelet's identity of a sandbox.</summary>
public sealed record PodSandboxMetadata(string Name, string Namespace, string Uid, uint Attempt)
{
    /// <summary>The name reserved for the sandbox (containerd's form: name_namespace_uid_attempt).</summary>
    public string ReservationKey => $"{Name}_{Namespace}_{Uid}_{Attempt}";
}
