using Spherelet.Domain.Node;

namespace Spherelet.Agent.Virtualization;

/// <summary>What the domain XML depends on besides the pod: KVM or TCG, and the QEMU binary.</summary>
/// <param name="DomainType"><c>kvm</c> where KVM is usable (<see cref="HostVirtualization"/>), else <c>qemu</c> (TCG).</param>
public sealed record DomainHostFacts(string DomainType, string EmulatorPath)
{
    public static DomainHostFacts Detect(string emulatorPath) =>
        new(HostVirtualization.KvmUsable ? "kvm" : "qemu", emulatorPath);
}
