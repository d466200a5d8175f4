using System.Runtime.InteropServices;
using System.Text;

namespace Spherelet.Agent.Mounts;

/// <summary>
/// mount_setattr(2), which Tmds.LibC does not wrap: called through syscall(2) (number 442 on
/// every architecture; Linux 5.12 and later).
/// </summary>
internal static unsafe partial class MountNative
{
    private const long SysMountSetattr = 442;
    private const int AtFdcwd = -100;
    private const uint AtRecursive = 0x8000;
    private const ulong MountAttrReadOnly = 0x1;

    /// <summary>Makes the mount at <paramref name="target"/> and every mount under it read-only, at once.</summary>
    /// <returns>0, or the errno of the failure.</returns>
    public static int MakeReadOnlyRecursively(string target)
    {
        var path = Encoding.UTF8.GetBytes(target + "\0");
        var attr = new MountAttr { AttrSet = MountAttrReadOnly };
        fixed (byte* p = path)
        {
            return Syscall(SysMountSetattr, AtFdcwd, p, AtRecursive, &attr, (nuint)sizeof(MountAttr)) < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, int dirfd, byte* path, uint flags, MountAttr* attr, nuint size);

    [StructLayout(LayoutKind.Sequential)]
    private struct MountAttr
    {
        public ulong AttrSet;
        public ulong AttrClr;
        public ulong Propagation;
        public ulong UsernsFd;
    }
}
