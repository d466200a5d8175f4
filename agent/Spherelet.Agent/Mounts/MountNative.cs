using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Spherelet.Agent.Mounts;

/// <summary>
/// The file-descriptor calls of the mount API and path resolution that Tmds.LibC does not wrap:
/// open_tree(2), move_mount(2), mount_setattr(2) and openat2(2), through syscall(2) (their numbers
/// are the same on every architecture; Linux 5.12 and later). Every failure is an
/// <see cref="IOException"/> naming the call, the path and the errno.
/// </summary>
internal static unsafe partial class MountNative
{
    public const int AtFdcwd = -100;

    private const long SysOpenTree = 428;
    private const long SysMoveMount = 429;
    private const long SysOpenat2 = 437;
    private const long SysMountSetattr = 442;

    private const uint OpenTreeCloneFlag = 1;
    private const uint OCloexec = 0x80000;
    private const uint AtEmptyPath = 0x1000;
    private const uint AtRecursive = 0x8000;
    private const uint MoveMountFromEmptyPath = 0x4;
    private const uint MoveMountToEmptyPath = 0x40;

    public const ulong OPath = 0x200000;
    public const ulong ODirectory = 0x10000;
    public const ulong ONoFollow = 0x20000;
    public const ulong OCreat = 0x40;
    public const ulong OExcl = 0x80;
    public const ulong OWriteOnly = 0x1;

    /// <summary>Resolution stays on the starting mount, never follows a link of any kind and never leaves the starting directory.</summary>
    public const ulong ResolveStrict = ResolveNoXdev | ResolveNoMagicLinks | ResolveNoSymlinks | ResolveBeneath;

    /// <summary>Like <see cref="ResolveStrict"/>, but the last component may be the root of a mount (to reach a mount to detach it).</summary>
    public const ulong ResolveBeneathNoLinks = ResolveNoMagicLinks | ResolveNoSymlinks | ResolveBeneath;

    private const ulong ResolveNoXdev = 0x01;
    private const ulong ResolveNoMagicLinks = 0x02;
    private const ulong ResolveNoSymlinks = 0x04;
    private const ulong ResolveBeneath = 0x08;

    public const ulong AttrReadOnly = 0x1;
    public const ulong AttrNoSuid = 0x2;
    public const ulong AttrNoDev = 0x4;
    public const ulong AttrNoExec = 0x8;
    private const ulong AttrIdmap = 0x100000;

    public const ulong PropagationPrivate = 1 << 18;
    public const ulong PropagationSlave = 1 << 19;
    public const ulong PropagationShared = 1 << 20;

    /// <summary>
    /// A detached copy of the mount tree at <paramref name="path"/> (the path on the host, resolved
    /// as the host resolves it), recursive when asked, to be changed and then attached with
    /// <see cref="MoveMount"/>; closing it before then drops it.
    /// </summary>
    public static SafeFileHandle OpenTreeClone(string path, bool recursive)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            var fd = Syscall(SysOpenTree, AtFdcwd, (nint)p, (nint)(OpenTreeCloneFlag | OCloexec | (recursive ? AtRecursive : 0)), 0, 0);
            return fd < 0 ? throw Failure("open_tree", path) : new SafeFileHandle((nint)fd, ownsHandle: true);
        }
    }

    /// <summary>A detached copy of the mount tree at what <paramref name="source"/> is open on (see <see cref="OpenTreeClone(string, bool)"/>).</summary>
    public static SafeFileHandle OpenTreeClone(SafeFileHandle source, bool recursive, string what)
    {
        var empty = (byte)0;
        var added = false;
        source.DangerousAddRef(ref added);
        try
        {
            var fd = Syscall(SysOpenTree, source.DangerousGetHandle(), (nint)(&empty), (nint)(OpenTreeCloneFlag | OCloexec | AtEmptyPath | (recursive ? AtRecursive : 0)), 0, 0);
            return fd < 0 ? throw Failure("open_tree", what) : new SafeFileHandle((nint)fd, ownsHandle: true);
        }
        finally
        {
            source.DangerousRelease();
        }
    }

    /// <summary>Sets and clears mount flags (and the propagation, when not 0) of the mount <paramref name="mount"/> refers to, recursively when asked.</summary>
    /// <param name="idmap">
    /// A user namespace whose mapping the mount's file ownership is shown through (an idmapped mount:
    /// the mount must be detached and not idmapped already); null for none.
    /// </param>
    public static void SetAttributes(SafeFileHandle mount, ulong set, ulong clear, ulong propagation, bool recursive, string what, SafeFileHandle? idmap = null)
    {
        var attr = new MountAttr { AttrSet = set | (idmap is null ? 0 : AttrIdmap), AttrClr = clear, Propagation = propagation };
        var empty = (byte)0;
        var added = false;
        var addedNamespace = false;
        mount.DangerousAddRef(ref added);
        idmap?.DangerousAddRef(ref addedNamespace);
        try
        {
            if (idmap is not null)
            {
                attr.UsernsFd = (ulong)idmap.DangerousGetHandle();
            }

            if (Syscall(SysMountSetattr, mount.DangerousGetHandle(), (nint)(&empty), (nint)(AtEmptyPath | (recursive ? AtRecursive : 0)), (nint)(&attr), sizeof(MountAttr)) < 0)
            {
                throw Failure("mount_setattr", what);
            }
        }
        finally
        {
            if (addedNamespace)
            {
                idmap!.DangerousRelease();
            }

            mount.DangerousRelease();
        }
    }

    /// <summary>Attaches the detached mount <paramref name="mount"/> onto the directory or file <paramref name="target"/> is open on.</summary>
    public static void MoveMount(SafeFileHandle mount, SafeFileHandle target, string what)
    {
        var empty = (byte)0;
        bool addedMount = false, addedTarget = false;
        mount.DangerousAddRef(ref addedMount);
        target.DangerousAddRef(ref addedTarget);
        try
        {
            if (Syscall(SysMoveMount, mount.DangerousGetHandle(), (nint)(&empty), target.DangerousGetHandle(), (nint)(&empty), (nint)(MoveMountFromEmptyPath | MoveMountToEmptyPath)) < 0)
            {
                throw Failure("move_mount", what);
            }
        }
        finally
        {
            target.DangerousRelease();
            mount.DangerousRelease();
        }
    }

    /// <summary>
    /// openat2(2): opens <paramref name="relative"/> below the directory <paramref name="directory"/>
    /// (null: the working directory, then <paramref name="relative"/> is absolute) with
    /// <paramref name="flags"/> (O_CLOEXEC added) and the resolve rules <paramref name="resolve"/>.
    /// </summary>
    /// <returns>The descriptor, or null with the errno when it fails.</returns>
    public static (SafeFileHandle? Handle, int Errno) OpenAt2(SafeFileHandle? directory, string relative, ulong flags, ulong resolve, uint mode = 0)
    {
        var bytes = Encoding.UTF8.GetBytes(relative + "\0");
        var how = new OpenHow { Flags = flags | OCloexec, Mode = mode, Resolve = resolve };
        var added = false;
        directory?.DangerousAddRef(ref added);
        try
        {
            fixed (byte* p = bytes)
            {
                var fd = Syscall(SysOpenat2, directory?.DangerousGetHandle() ?? AtFdcwd, (nint)p, (nint)(&how), sizeof(OpenHow), 0);
                return fd < 0 ? (null, Marshal.GetLastPInvokeError()) : (new SafeFileHandle((nint)fd, ownsHandle: true), 0);
            }
        }
        finally
        {
            if (added)
            {
                directory!.DangerousRelease();
            }
        }
    }

    private static IOException Failure(string call, string what)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} of {what} failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})") { HResult = errno };
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint a, nint b, nint c, nint d, nint e);

    [StructLayout(LayoutKind.Sequential)]
    private struct MountAttr
    {
        public ulong AttrSet;
        public ulong AttrClr;
        public ulong Propagation;
        public ulong UsernsFd;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }
}
