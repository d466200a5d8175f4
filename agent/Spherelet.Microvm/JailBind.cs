namespace Spherelet.Microvm;

/// <summary>Something of the host a jailed QEMU is given: <paramref name="Source"/> bound at <paramref name="Target"/> in its root.</summary>
/// <param name="IsFile">A file (bound over an empty file) rather than a directory.</param>
/// <param name="Writable">Bound writable; else read-only, and always <c>nosuid,nodev</c> unless <paramref name="Device"/>.</param>
/// <param name="Device">A device node (bound without <c>nodev</c>).</param>
internal sealed record JailBind(string Source, string Target, bool IsFile = false, bool Writable = false, bool Device = false);
