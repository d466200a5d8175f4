using System.Runtime.InteropServices;

namespace Spherelet.Crx.Native;

/// <summary>struct timespec.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct Timespec
{
    public long Seconds;
    public long Nanoseconds;
}
