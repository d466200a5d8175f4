namespace Spherelet.Microvm;

/// <summary>
/// The descriptors a jailed QEMU inherits instead of paths: its tap, and the listening sockets of
/// QMP, the CRX channel and the serial console (bound by the agent in a directory QEMU cannot
/// write, so it can neither replace them nor plant links the agent would follow). -1: none.
/// </summary>
internal sealed record JailDescriptors(int Tap, int Qmp, int Channel, int Console);
