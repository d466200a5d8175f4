using System.Runtime.InteropServices;

namespace Spherelet.Libvirt.Native;

/// <summary>
/// libvirt's <c>virError</c> (libvirt/virterror.h), read right after a failing call.
/// Only the leading fields are read; the layout up to <see cref="Str3"/> matches the header.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VirError
{
    public int Code;
    public int Domain;
    public nint Message;
    public int Level;
    public nint Conn;
    public nint Dom;
    public nint Str1;
    public nint Str2;
    public nint Str3;
    public int Int1;
    public int Int2;
    public nint Net;
}
