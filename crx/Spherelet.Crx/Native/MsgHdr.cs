using System.Runtime.InteropServices;

namespace Spherelet.Crx.Native;

/// <summary>struct msghdr (x86_64 glibc layout).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MsgHdr
{
    public void* Name;
    public uint NameLength;
    public IoVec* Iov;
    public nuint IovLength;
    public void* Control;
    public nuint ControlLength;
    public int Flags;
}
