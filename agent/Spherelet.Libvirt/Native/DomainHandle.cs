using Microsoft.Win32.SafeHandles;

namespace Spherelet.Libvirt.Native;

/// <summary>A <c>virDomainPtr</c>; closing the handle drops this reference (<c>virDomainFree</c>).</summary>
internal sealed class DomainHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public DomainHandle()
        : base(ownsHandle: true)
    {
    }

    /// <summary>Takes ownership of a reference that libvirt handed out (e.g. an element of <c>virConnectListAllDomains</c>).</summary>
    internal DomainHandle(nint domain)
        : base(ownsHandle: true)
    {
        SetHandle(domain);
    }

    protected override bool ReleaseHandle() => LibvirtNative.virDomainFree(handle) >= 0;
}
