using Spherelet.Domain.Node;

namespace Spherelet.Libvirt.Vmm;

/// <summary>What the domain XML depends on besides the pod: KVM or TCG, the QEMU binary, host hugepages.</summary>
/// <param name="DomainType"><c>kvm</c> where KVM is usable (<see cref="HostVirtualization"/>), else <c>qemu</c> (TCG).</param>
/// <param name="Hugepages">The host has 2 MiB hugepages QEMU can back guest memory with (<see cref="HostHugepages"/>), as the agent started.</param>
public sealed record DomainHostFacts(string DomainType, string EmulatorPath, bool Hugepages = false)
{
    public static DomainHostFacts Detect(string emulatorPath) =>
        new(HostVirtualization.KvmUsable ? "kvm" : "qemu", emulatorPath, HostHugepages.Available());
}
