namespace Spherelet.Domain.Sandboxes;

/// <summary>The pod network (Open vSwitch segments per namespace): attaches pod VMs to their namespace's segment and detaches them.</summary>
public interface IPodNetwork
{
    /// <summary>
    /// Leases the pod an address on its namespace's segment (making the segment, its VLAN and
    /// its gateway when it is the namespace's first pod); null when the node has no pod CIDR
    /// yet (the pod then has its loopback only). Attaching a pod again returns its attachment.
    /// </summary>
    /// <remarks>The pod's host ports are forwarded to its address (DNAT); a host port another pod or the host holds is refused.</remarks>
    /// <exception cref="Errors.PreconditionFailedException">A host port is taken; no pod CIDR for a pod with host ports.</exception>
    Task<PodNetworkAttachment?> AttachAsync(string sandboxId, PodSandboxMetadata metadata, IReadOnlyList<PortMapping> ports, CancellationToken cancellationToken);

    /// <summary>
    /// Puts the pod VM's tap (made by the VMM backend, named <see cref="PodNetworkAttachment.PortName"/>)
    /// on the switch as a port of its segment's VLAN, named for the pod; a port already there stays.
    /// For backends that do not plug the NIC themselves; called before <see cref="SecurePortAsync"/>.
    /// </summary>
    Task PlugPortAsync(string sandboxId, PodNetworkAttachment attachment, CancellationToken cancellationToken);

    /// <summary>
    /// Lets the pod's switch port send only from the pod's own MAC and addresses (ARP and neighbour
    /// discovery included); everything else it sends is dropped. Called once the VM's NIC is on the
    /// switch and before the VM runs.
    /// </summary>
    Task SecurePortAsync(string sandboxId, PodNetworkAttachment attachment, CancellationToken cancellationToken);

    /// <summary>Names the pod on its NIC's switch port (once the VM runs and the port exists), so that operators see whose port it is.</summary>
    Task LabelPortAsync(string sandboxId, PodSandboxMetadata metadata, PodNetworkAttachment attachment, CancellationToken cancellationToken);

    /// <summary>Releases the pod's address, its port, and its namespace's segment when it was the last pod there; nothing to release is fine.</summary>
    Task DetachAsync(string sandboxId, CancellationToken cancellationToken);

    /// <summary>
    /// At start: makes the switch what the allocations say: detaches every pod that is not one of
    /// <paramref name="sandboxIds"/> (leftovers of a crash), restores every segment's gateway, egress
    /// and isolation rules, and removes the ports, flows and rules of this agent that no segment or
    /// pod owns. When the switch cannot be reached, this is done before the next pod is attached.
    /// </summary>
    Task RecoverAsync(IReadOnlySet<string> sandboxIds, CancellationToken cancellationToken);
}
