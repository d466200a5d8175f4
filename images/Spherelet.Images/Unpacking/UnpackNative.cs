using System.Runtime.InteropServices;
using System.Text;
using Tmds.Linux;

namespace Spherelet.Images.Unpacking;

/// <summary>
/// Every libc call of the image store and the layer unpacker, in one place. Tmds.LibC where it has the call
/// (its imports set the last error), <c>LibraryImport</c> otherwise. None of them follows a
/// symlink in the last path component except <see cref="Chmod"/>, which is only called on
/// nodes the unpacker has just created and knows are not symlinks. A failed call throws an
/// <see cref="IOException"/> with the errno read right after it and the path.
/// </summary>
internal static unsafe partial class UnpackNative
{
    private const string LibCName = "libc";
    private const int ENODATA = 61;
    private const int EOPNOTSUPP = 95;
    private const int EINVAL = 22;
    private const uint RENAME_NOREPLACE = 1;

    public static bool IsRoot => LibC.geteuid() == 0u;

    /// <summary>lstat(2): false when nothing is at <paramref name="path"/>.</summary>
    public static bool TryLstat(string path, out stat status)
    {
        var bytes = Utf8(path);
        int result;
        stat local;
        fixed (byte* p = bytes)
        {
            result = LibC.lstat(p, &local);
        }

        if (result == 0)
        {
            status = local;
            return true;
        }

        var errno = LibC.errno;
        status = default;
        return errno == LibC.ENOENT ? false : throw Failure("lstat", path, errno);
    }

    public static bool IsDirectory(in stat status) => (status.st_mode & LibC.S_IFMT) == LibC.S_IFDIR;

    public static bool IsSymlink(in stat status) => (status.st_mode & LibC.S_IFMT) == LibC.S_IFLNK;

    public static bool IsRegularFile(in stat status) => (status.st_mode & LibC.S_IFMT) == LibC.S_IFREG;

    public static bool IsCharacterDevice(in stat status) => (status.st_mode & LibC.S_IFMT) == LibC.S_IFCHR;

    public static bool IsFifo(in stat status) => (status.st_mode & LibC.S_IFMT) == LibC.S_IFIFO;

    /// <summary>The permission bits of a status, setuid, setgid and sticky included.</summary>
    public static int PermissionBits(in stat status) => (ushort)status.st_mode & 0xFFF;

    /// <summary>Major and minor numbers of a device's st_rdev (glibc's encoding).</summary>
    public static (uint Major, uint Minor) DeviceNumbers(in stat status)
    {
        ulong dev = status.st_rdev;
        var major = (uint)(((dev >> 8) & 0xFFF) | ((dev >> 32) & 0xFFFFF000));
        var minor = (uint)((dev & 0xFF) | ((dev >> 12) & 0xFFFFFF00));
        return (major, minor);
    }

    public static void Mkdir(string path, int mode)
    {
        var bytes = Utf8(path);
        fixed (byte* p = bytes)
        {
            if (LibC.mkdir(p, (ushort)mode) != 0)
            {
                throw Failure("mkdir", path, LibC.errno);
            }
        }
    }

    /// <summary>mknod(2); <paramref name="typeAndMode"/> carries S_IFCHR, S_IFBLK or S_IFIFO and the permission bits.</summary>
    public static void Mknod(string path, int typeAndMode, uint major, uint minor)
    {
        var bytes = Utf8(path);
        fixed (byte* p = bytes)
        {
            if (LibC.mknod(p, (ushort)typeAndMode, MakeDevice(major, minor)) != 0)
            {
                throw Failure("mknod", path, LibC.errno);
            }
        }
    }

    public static int CharacterDeviceType => (ushort)LibC.S_IFCHR;

    public static int BlockDeviceType => (ushort)LibC.S_IFBLK;

    public static int FifoType => (ushort)LibC.S_IFIFO;

    public static void Symlink(string target, string path)
    {
        var targetBytes = Utf8(target);
        var pathBytes = Utf8(path);
        fixed (byte* t = targetBytes)
        fixed (byte* p = pathBytes)
        {
            if (LibC.symlink(t, p) != 0)
            {
                throw Failure("symlink", path, LibC.errno);
            }
        }
    }

    /// <summary>link(2), which on Linux links a symlink itself rather than what it points to.</summary>
    public static void Link(string existing, string path)
    {
        var existingBytes = Utf8(existing);
        var pathBytes = Utf8(path);
        fixed (byte* e = existingBytes)
        fixed (byte* p = pathBytes)
        {
            if (LibC.link(e, p) != 0)
            {
                var errno = LibC.errno;
                throw Failure($"link to '{existing}'", path, errno);
            }
        }
    }

    public static void Lchown(string path, int uid, int gid)
    {
        var bytes = Utf8(path);
        fixed (byte* p = bytes)
        {
            if (LibC.lchown(p, (uint)uid, (uint)gid) != 0)
            {
                throw Failure("lchown", path, LibC.errno);
            }
        }
    }

    /// <summary>chmod(2) with all twelve mode bits; follows a symlink, so only for nodes known not to be one.</summary>
    public static void Chmod(string path, int mode)
    {
        var bytes = Utf8(path);
        fixed (byte* p = bytes)
        {
            if (LibC.chmod(p, (ushort)(mode & 0xFFF)) != 0)
            {
                throw Failure("chmod", path, LibC.errno);
            }
        }
    }

    /// <summary>utimensat(2) with AT_SYMLINK_NOFOLLOW: sets a symlink's own times.</summary>
    public static void SetTimes(string path, DateTimeOffset accessTime, DateTimeOffset modificationTime)
    {
        var bytes = Utf8(path);
        var times = stackalloc timespec[2];
        times[0] = ToTimespec(accessTime);
        times[1] = ToTimespec(modificationTime);
        fixed (byte* p = bytes)
        {
            if (LibC.utimensat(LibC.AT_FDCWD, p, times, LibC.AT_SYMLINK_NOFOLLOW) != 0)
            {
                throw Failure("utimensat", path, LibC.errno);
            }
        }
    }

    /// <summary>lsetxattr(2): false when the file system does not support the attribute's namespace (EOPNOTSUPP).</summary>
    public static bool TrySetXattr(string path, string name, ReadOnlySpan<byte> value)
    {
        int result;
        fixed (byte* v = value)
        {
            result = lsetxattr(path, name, v, (nuint)value.Length, 0);
        }

        if (result == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == EOPNOTSUPP ? false : throw Failure($"lsetxattr {name}", path, errno);
    }

    /// <summary>lgetxattr(2): the value, or null when the node has no such attribute.</summary>
    public static byte[]? GetXattr(string path, string name)
    {
        var buffer = new byte[4096];
        nint length;
        fixed (byte* b = buffer)
        {
            length = lgetxattr(path, name, b, (nuint)buffer.Length);
        }

        if (length >= 0)
        {
            return buffer[..(int)length];
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == ENODATA ? null : throw Failure($"lgetxattr {name}", path, errno);
    }

    /// <summary>Renames a directory into place only if nothing is there yet (renameat2 RENAME_NOREPLACE), so a concurrent unpack cannot be overwritten.</summary>
    public static void RenameNoReplace(string from, string to)
    {
        if (renameat2(LibC.AT_FDCWD, from, LibC.AT_FDCWD, to, RENAME_NOREPLACE) == 0)
        {
            return;
        }

        var errno = Marshal.GetLastPInvokeError();
        if (errno != EINVAL)
        {
            throw Failure($"rename of '{from}'", to, errno);
        }

        // The file system has no RENAME_NOREPLACE: check, then rename (Directory.Move refuses an existing target).
        Directory.Move(from, to);
    }

    /// <summary>syncfs(2) on the file system that holds <paramref name="directory"/>: everything unpacked reaches the disk before it is renamed into place.</summary>
    public static void SyncFileSystem(string directory)
    {
        var fd = OpenDirectory(directory);
        try
        {
            if (LibC.syncfs(fd) != 0)
            {
                throw Failure("syncfs", directory, LibC.errno);
            }
        }
        finally
        {
            _ = LibC.close(fd);
        }
    }

    /// <summary>fsync(2) of a directory, so a rename in it is durable.</summary>
    public static void SyncDirectory(string directory)
    {
        var fd = OpenDirectory(directory);
        try
        {
            if (LibC.fsync(fd) != 0)
            {
                throw Failure("fsync", directory, LibC.errno);
            }
        }
        finally
        {
            _ = LibC.close(fd);
        }
    }

    /// <summary>open(2) of a directory, read-only (.NET's file handles refuse directories).</summary>
    private static int OpenDirectory(string directory)
    {
        var bytes = Utf8(directory);
        fixed (byte* p = bytes)
        {
            var fd = LibC.open(p, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC, 0);
            return fd >= 0 ? fd : throw Failure("open", directory, LibC.errno);
        }
    }

    private static ulong MakeDevice(uint major, uint minor) =>
        ((ulong)(major & 0x00000FFFu) << 8)
        | ((ulong)(major & 0xFFFFF000u) << 32)
        | (minor & 0x000000FFu)
        | ((ulong)(minor & 0xFFFFFF00u) << 12);

    private static timespec ToTimespec(DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var remainder);
        if (remainder < 0)
        {
            seconds--;
            remainder += TimeSpan.TicksPerSecond;
        }

        return new timespec { tv_sec = seconds, tv_nsec = (long_t)(remainder * 100) };
    }

    private static byte[] Utf8(string path)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        return bytes;
    }

    private static IOException Failure(string operation, string path, int errno) =>
        new($"{operation} '{path}': {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);

    [LibraryImport(LibCName, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lsetxattr(string path, string name, byte* value, nuint size, int flags);

    [LibraryImport(LibCName, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint lgetxattr(string path, string name, byte* value, nuint size);

    [LibraryImport(LibCName, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int renameat2(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);
}
