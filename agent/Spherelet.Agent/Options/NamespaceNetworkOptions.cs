namespace Spherelet.Agent.Options;

/// <summary>One Kubernetes namespace's network policy (as NSX sets it per namespace).</summary>
public sealed class NamespaceNetworkOptions
{
    /// <summary>The namespace's segment neither reaches nor is reached by other segments' pods (OpenFlow rules on the bridge); the host and the world outside the pod CIDR still are.</summary>
    public bool Isolated { get; set; }

    /// <summary>The address this namespace's egress is SNATed to instead of <see cref="NetworkOptions.SnatAddress"/>.</summary>
    public string SnatAddress { get; set; } = string.Empty;
}
