namespace Spherelet.Microvm;

/// <summary>How one QEMU is jailed and what it runs.</summary>
/// <param name="MountPoint">An empty host directory the jail's root (a small tmpfs of its own mount namespace) is mounted on; several jails may share it.</param>
/// <param name="UserNamespace">The user namespace QEMU runs in as its root, with no capability (the VM's ids: <see cref="IdMappedNamespace"/>).</param>
/// <param name="Binds">What of the host it sees, besides <c>/usr</c> and the loader cache (always there, read-only).</param>
/// <param name="Tap">The tap to make and hand over; null for none.</param>
/// <param name="Sockets">Where to bind the listening sockets handed over: QMP, the CRX channel, the console.</param>
/// <param name="Arguments">QEMU's arguments, given the descriptors it inherits.</param>
internal sealed record JailSpec(
    string MountPoint,
    Microsoft.Win32.SafeHandles.SafeFileHandle UserNamespace,
    IReadOnlyList<JailBind> Binds,
    string? Tap,
    int Mtu,
    (string Qmp, string Channel, string Console) Sockets,
    string QemuPath,
    Func<JailDescriptors, IReadOnlyList<string>> Arguments);
