using System.Runtime.InteropServices;

namespace Spherelet.Libvirt.Native;

/// <summary>
/// libvirt's <c>virDomainInfo</c> (libvirt/libvirt-domain.h), filled by <c>virDomainGetInfo</c>.
/// <c>unsigned long</c> is 64 bits on Linux x86-64 and arm64 (LP64), hence <see cref="nuint"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirDomainInfo
{
    public byte State;
    public nuint MaxMem;
    public nuint Memory;
    public ushort NrVirtCpu;
    public ulong CpuTime;
}
