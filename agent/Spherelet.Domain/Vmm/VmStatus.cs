namespace Spherelet.Domain.Vmm;

/// <summary>What the VMM says about one VM.</summary>
/// <param name="Owner">From the VM's metadata; null when it carries none.</param>
public sealed record VmStatus(string Name, Guid Uuid, VmState State, int VirtualCpus, long MemoryMiB, TimeSpan CpuTime, VmOwner? Owner);
