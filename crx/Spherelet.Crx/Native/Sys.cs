using System.Runtime.InteropServices;

namespace Spherelet.Crx.Native;

/// <summary>
/// Every libc call CRX makes, in one place. Errors: a call returns -1 and the caller reads
/// <see cref="Marshal.GetLastPInvokeError"/> right away (SetLastError = true).
/// </summary>
internal static unsafe partial class Sys
{
    private const string LibC = "libc";

    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int WNOHANG = 1;
    public const int EINTR = 4;
    public const int ECHILD = 10;
    public const int O_RDWR = 2;
    public const int O_CLOEXEC = 0x80000;
    public const int O_NOCTTY = 0x100;
    public const int MS_RDONLY = 1;
    public const int MS_NOSUID = 2;
    public const int MNT_DETACH = 2;
    public const int MS_NODEV = 4;
    public const int MS_NOEXEC = 8;
    public const int MS_RELATIME = 1 << 21;
    public const uint LINUX_REBOOT_CMD_POWER_OFF = 0x4321FEDC;
    public const uint LINUX_REBOOT_CMD_RESTART = 0x01234567;
    public const int PR_SET_CHILD_SUBREAPER = 36;
    public const int CLOCK_REALTIME = 0;
    public const int CLOCK_BOOTTIME = 7;
    public const int SOL_SOCKET = 1;
    public const int SCM_RIGHTS = 1;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;
    public const uint TIOCSWINSZ = 0x5414;
    public const int EIO = 5;
    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int O_WRONLY = 1;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_PATH = 0x200000;
    public const ulong RESOLVE_NO_MAGICLINKS = 0x02;
    public const ulong RESOLVE_IN_ROOT = 0x10;
    private const nint SYS_openat2 = 437;

    [LibraryImport(LibC, SetLastError = true)]
    public static partial nint recvmsg(nint socket, MsgHdr* message, int flags);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int ioctl(int fd, nuint request, void* argument);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int dup3(int fd, int newFd, int flags);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int fcntl(int fd, int command, int argument);

    public const int F_DUPFD_CLOEXEC = 1030;

    [LibraryImport(LibC, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mount(string? source, string target, string? fstype, nuint flags, string? data);

    [LibraryImport(LibC, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int umount2(string target, int flags);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int reboot(uint cmd);

    [LibraryImport(LibC)]
    public static partial void sync();

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int sethostname(byte* name, nuint len);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int waitpid(int pid, out int status, int options);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int kill(int pid, int sig);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int pipe2(int* fds, int flags);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport(LibC, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int open(string path, int flags, int mode);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport(LibC, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int openat(int dirfd, string path, int flags, int mode);

    [LibraryImport(LibC, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int mkdirat(int dirfd, string path, int mode);

    [LibraryImport(LibC, EntryPoint = "syscall", SetLastError = true)]
    private static partial nint SyscallOpenat2(nint number, int dirfd, byte* path, OpenHow* how, nuint size);

    /// <summary>openat2(2): <paramref name="path"/> resolved below <paramref name="dirfd"/> as <paramref name="resolve"/> says.</summary>
    public static int openat2(int dirfd, string path, int flags, ulong resolve)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path + "\0");
        var how = new OpenHow { Flags = (ulong)(flags | O_CLOEXEC), Resolve = resolve };
        fixed (byte* p = bytes)
        {
            return (int)SyscallOpenat2(SYS_openat2, dirfd, p, &how, (nuint)sizeof(OpenHow));
        }
    }

    [LibraryImport(LibC, SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int clock_gettime(int clock, out Timespec time);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int clock_settime(int clock, in Timespec time);

    public const short POSIX_SPAWN_SETSIGDEF = 0x04;
    public const short POSIX_SPAWN_SETSIGMASK = 0x08;
    public const short POSIX_SPAWN_SETSID = 0x80;

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int posix_spawn_file_actions_init(nint actions);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int posix_spawn_file_actions_destroy(nint actions);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int posix_spawn_file_actions_adddup2(nint actions, int fd, int newfd);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int posix_spawnattr_init(nint attr);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int posix_spawnattr_destroy(nint attr);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int posix_spawnattr_setflags(nint attr, short flags);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int posix_spawnattr_setsigdefault(nint attr, nint sigset);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int posix_spawnattr_setsigmask(nint attr, nint sigset);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int sigfillset(nint set);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int sigemptyset(nint set);

    [LibraryImport(LibC, SetLastError = true)]
    public static partial int posix_spawn(out int pid, byte* path, nint fileActions, nint attr, byte** argv, byte** envp);

    /// <summary>errno of the last failed call, as text: "No such file or directory (2)".</summary>
    public static string LastError()
    {
        var errno = Marshal.GetLastPInvokeError();
        return $"{Marshal.GetPInvokeErrorMessage(errno)} ({errno})";
    }
}
