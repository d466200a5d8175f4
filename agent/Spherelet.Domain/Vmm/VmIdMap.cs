namespace Spherelet.Domain.Vmm;

/// <summary>
/// The host ids a pod VM's VMM runs under: ids 0 to <paramref name="Count"/>-1 of its user namespace are
/// host ids <paramref name="HostId"/> onwards, and its pod share is idmapped the same way, so the VMM
/// owns what root owns there without being root. Null where the VMM runs as root (libvirt's QEMU).
/// </summary>
public sealed record VmIdMap(uint HostId, uint Count);
