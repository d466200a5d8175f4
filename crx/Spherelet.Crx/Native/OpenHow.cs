using System.Runtime.InteropServices;

namespace Spherelet.Crx.Native;

/// <summary>struct open_how of openat2(2).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct OpenHow
{
    public ulong Flags;
    public ulong Mode;
    public ulong Resolve;
}
