namespace Spherelet.Domain.Vmm;

/// <summary>A pod VM's NIC: a virtio NIC on an Open vSwitch bridge port in a VLAN.</summary>
/// <param name="PortName">The host side's name (the OVS port), at most 15 bytes.</param>
/// <param name="InterfaceId">The OVS interface id (external_ids:iface-id).</param>
/// <param name="Mtu">The NIC's MTU (its tap's on the host).</param>
/// <param name="ChecksumOffload">
/// Whether the guest may leave checksums and segmentation to the host. Not on a userspace
/// (netdev) OVS datapath: it forwards frames as they come, so a TCP segment the guest left
/// unchecksummed would reach the host or another pod with a bad checksum and be dropped.
/// </param>
public sealed record VmNic(string Bridge, string PortName, string Mac, int Vlan, Guid InterfaceId, int Mtu, bool ChecksumOffload = true);
