namespace Spherelet.Domain.Vmm;

/// <summary>
/// Where the agent reaches a pod VM's CRX, as the backend that runs the VM serves it: today a Unix
/// socket (root's, in the VM's run directory) that QEMU serves the virtio-serial port on, on both
/// backends. A backend with another transport (vsock) would say so here; callers never build it.
/// </summary>
/// <param name="ChannelSocketPath">The Unix socket of the CRX channel.</param>
public sealed record GuestEndpoint(string ChannelSocketPath);
