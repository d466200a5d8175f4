namespace Spherelet.Agent.Virtualization;

/// <summary>What the domain XML depends on besides the pod: KVM or TCG, and the QEMU binary.</summary>
/// <param name="DomainType"><c>kvm</c> where /dev/kvm exists, else <c>qemu</c> (TCG).</param>
public sealed record DomainHostFacts(string DomainType, string EmulatorPath)
{
    public static DomainHostFacts Detect(string emulatorPath) =>
        new(File.Exists("/dev/kvm") ? "kvm" : "qemu", emulatorPath);
}
