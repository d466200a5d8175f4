namespace Spherelet.Domain.Vmm;

/// <summary>A host block device given to a pod VM as a virtio disk.</summary>
/// <param name="HostPath">The block device on the host (symlinks resolved).</param>
/// <param name="Serial">The disk's serial (at most 20 characters): how the guest finds it.</param>
/// <param name="Target">The VMM's name for the disk (<c>vdb</c>, ...); the guest names it as it likes.</param>
public sealed record VmDisk(string HostPath, string Serial, string Target, bool ReadOnly);
