using System.Runtime.InteropServices;
using System.Text;

namespace Spherelet.Microvm.Native;

/// <summary>
/// The libc calls the jail is made of: namespaces, mounts, pivot_root, the tap. Every failure is an
/// <see cref="IOException"/> naming the call, its argument and the errno, read right after the call.
/// </summary>
internal static unsafe partial class JailNative
{
    public const int CloneNewNs = 0x00020000;
    public const int CloneFs = 0x00000200;
    public const int CloneNewUts = 0x04000000;
    public const int CloneNewIpc = 0x08000000;
    public const int CloneNewNet = 0x40000000;

    public const ulong MsRdOnly = 1;
    public const ulong MsNoSuid = 2;
    public const ulong MsNoDev = 4;
    public const ulong MsNoExec = 8;
    public const ulong MsRemount = 32;
    public const ulong MsBind = 4096;
    public const ulong MsRec = 16384;
    public const ulong MsPrivate = 1 << 18;
    public const ulong MsSlave = 1 << 19;

    private const int MntDetach = 2;
    private const int ORdWr = 2;
    private const int OCreat = 0x40;
    private const int OCloexec = 0x80000;
    private const long SysPivotRoot = 155;
    private const uint TunSetIff = 0x400454ca;
    private const uint SiocSIfMtu = 0x8922;
    private const uint SiocGIfFlags = 0x8913;
    private const uint SiocSIfFlags = 0x8914;
    private const short IffTap = 0x0002;
    private const short IffNoPi = 0x1000;
    private const short IffVnetHdr = 0x4000;
    private const short IffUp = 0x1;

    public static void Unshare(int flags, string what)
    {
        if (unshare(flags) != 0)
        {
            throw Failure("unshare", what);
        }
    }

    public static void Mount(string? source, string target, string? type, ulong flags, string? data)
    {
        if (mount(source, target, type, flags, data) != 0)
        {
            throw Failure("mount", target);
        }
    }

    public static void DetachMount(string target)
    {
        if (umount2(target, MntDetach) != 0)
        {
            throw Failure("umount2", target);
        }
    }

    public static void PivotRoot(string newRoot, string putOld)
    {
        if (syscall(SysPivotRoot, newRoot, putOld) != 0)
        {
            throw Failure("pivot_root", newRoot);
        }
    }

    public static void ChangeDirectory(string path)
    {
        if (chdir(path) != 0)
        {
            throw Failure("chdir", path);
        }
    }

    public static void RemoveDirectory(string path)
    {
        if (rmdir(path) != 0)
        {
            throw Failure("rmdir", path);
        }
    }

    /// <summary>An empty file to bind a file over (a bind needs a mount point of the same kind).</summary>
    public static void MakeFile(string path)
    {
        var fd = open(path, OCreat | ORdWr | OCloexec, 0x1A4);
        if (fd < 0)
        {
            throw Failure("open", path);
        }

        close(fd);
    }

    /// <summary>
    /// Makes the tap <paramref name="name"/> (it lives while the descriptor is open: it goes with the
    /// VM's QEMU), with the virtio-net header, and brings it up at <paramref name="mtu"/>. The
    /// descriptor is inheritable: it is meant for the QEMU spawned next, and closed here after.
    /// </summary>
    public static int OpenTap(string name, int mtu)
    {
        var fd = open("/dev/net/tun", ORdWr, 0);
        if (fd < 0)
        {
            throw Failure("open", "/dev/net/tun");
        }

        try
        {
            var request = new InterfaceRequest();
            request.SetName(name);
            request.Flags = (short)(IffTap | IffNoPi | IffVnetHdr);
            if (ioctl(fd, TunSetIff, &request) != 0)
            {
                throw Failure("ioctl(TUNSETIFF)", name);
            }

            var socket = Socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */, 0);
            if (socket < 0)
            {
                throw Failure("socket", name);
            }

            try
            {
                var settings = new InterfaceRequest();
                settings.SetName(name);
                settings.Value = mtu;
                if (ioctl(socket, SiocSIfMtu, &settings) != 0)
                {
                    throw Failure("ioctl(SIOCSIFMTU)", name);
                }

                var flags = new InterfaceRequest();
                flags.SetName(name);
                if (ioctl(socket, SiocGIfFlags, &flags) != 0)
                {
                    throw Failure("ioctl(SIOCGIFFLAGS)", name);
                }

                flags.Flags |= IffUp;
                if (ioctl(socket, SiocSIfFlags, &flags) != 0)
                {
                    throw Failure("ioctl(SIOCSIFFLAGS)", name);
                }
            }
            finally
            {
                close(socket);
            }

            return fd;
        }
        catch
        {
            close(fd);
            throw;
        }
    }

    public static void Close(int fd) => close(fd);

    /// <summary>
    /// A listening Unix socket bound at <paramref name="path"/> (any old file there is replaced), its
    /// descriptor inheritable: QEMU serves on it, and the file stays the agent's.
    /// </summary>
    public static int ListenUnix(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        if (bytes.Length > 107)
        {
            throw new IOException($"the socket path {path} is longer than 107 bytes");
        }

        var fd = Socket(1 /* AF_UNIX */, 1 /* SOCK_STREAM */, 0);
        if (fd < 0)
        {
            throw Failure("socket", path);
        }

        try
        {
            File.Delete(path);
            var address = new UnixAddress { Family = 1 };
            for (var i = 0; i < bytes.Length; i++)
            {
                address.Path[i] = bytes[i];
            }

            if (bind(fd, &address, (uint)sizeof(UnixAddress)) != 0)
            {
                throw Failure("bind", path);
            }

            if (listen(fd, 4) != 0)
            {
                throw Failure("listen", path);
            }

            return fd;
        }
        catch
        {
            close(fd);
            throw;
        }
    }

    /// <summary>A copy of <paramref name="handle"/>'s descriptor that a spawned process inherits (no close-on-exec).</summary>
    public static int Duplicate(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        var added = false;
        handle.DangerousAddRef(ref added);
        try
        {
            var fd = fcntl((int)handle.DangerousGetHandle(), 0 /* F_DUPFD */, 3);
            return fd >= 0 ? fd : throw Failure("fcntl(F_DUPFD)", "a user namespace");
        }
        finally
        {
            handle.DangerousRelease();
        }
    }

    /// <summary>Sends <paramref name="signal"/> to <paramref name="pid"/>; false when there is no such process.</summary>
    public static bool Kill(int pid, int signal) => kill(pid, signal) == 0;

    private static IOException Failure(string call, string what)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"{call} {what}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})");
    }

    /// <summary>struct sockaddr_un.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct UnixAddress
    {
        public ushort Family;
        public fixed byte Path[108];
    }

    /// <summary>struct ifreq: a 16-byte name, then a union (flags, MTU, ...).</summary>
    [StructLayout(LayoutKind.Sequential, Size = 40)]
    private struct InterfaceRequest
    {
        private fixed byte _name[16];
        public int Value;

        public short Flags
        {
            readonly get => (short)(Value & 0xFFFF);
            set => Value = (Value & ~0xFFFF) | (ushort)value;
        }

        public void SetName(string name)
        {
            var bytes = Encoding.ASCII.GetBytes(name);
            if (bytes.Length > 15)
            {
                throw new ArgumentException($"interface name '{name}' is longer than 15 bytes", nameof(name));
            }

            for (var i = 0; i < bytes.Length; i++)
            {
                _name[i] = bytes[i];
            }
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unshare(int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int mount(string? source, string target, string? filesystemtype, ulong mountflags, string? data);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int umount2(string target, int flags);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscall(long number, string newRoot, string putOld);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int chdir(string path);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rmdir(string path);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags, uint mode);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(int fd, uint request, void* argument);

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    private static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int bind(int fd, UnixAddress* address, uint length);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int listen(int fd, int backlog);

}
