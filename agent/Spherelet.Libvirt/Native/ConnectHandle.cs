using Microsoft.Win32.SafeHandles;

namespace Spherelet.Libvirt.Native;

/// <summary>A <c>virConnectPtr</c>; closing the handle drops the connection's reference.</summary>
internal sealed class ConnectHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public ConnectHandle()
        : base(ownsHandle: true)
    {
    }

    protected override bool ReleaseHandle() => LibvirtNative.virConnectClose(handle) >= 0;
}
