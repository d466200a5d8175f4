namespace Spherelet.Libvirt;

/// <summary>A domain's state and resources as <c>virDomainGetInfo</c> reports them.</summary>
public readonly record struct DomainInfo(DomainState State, ulong MaxMemoryKiB, ulong MemoryKiB, uint VirtualCpus, ulong CpuTimeNanoseconds);
