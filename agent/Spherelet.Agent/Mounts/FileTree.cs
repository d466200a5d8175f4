using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Spherelet.Agent.Mounts;

/// <summary>
/// File work below a directory descriptor that never follows a link and never leaves the file
/// system it starts on: making directories, listing and deleting trees. A link met while deleting
/// is removed itself; a mount met is refused, never descended into.
/// </summary>
internal static unsafe class FileTree
{
    /// <summary>Makes directory <paramref name="name"/> below <paramref name="parent"/>; one that is there already is fine.</summary>
    public static void MakeDirectory(SafeFileHandle parent, string name, uint mode)
    {
        var bytes = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = bytes)
        {
            if (LibC.mkdirat(Fd(parent), p, (mode_t)mode) < 0 && LibC.errno != LibC.EEXIST)
            {
                throw new IOException($"mkdir {name} failed: errno {LibC.errno}");
            }
        }
    }

    /// <summary>The names in the directory <paramref name="directory"/> is open on.</summary>
    public static IReadOnlyList<string> Names(SafeFileHandle directory) =>
        Directory.EnumerateFileSystemEntries("/proc/self/fd/" + Fd(directory).ToString(CultureInfo.InvariantCulture))
            .Select(Path.GetFileName)
            .OfType<string>()
            .ToList();

    /// <summary>
    /// Deletes <paramref name="name"/> below <paramref name="parent"/> and, for a directory,
    /// everything in it: links are deleted, not followed; nothing missing is fine.
    /// </summary>
    /// <exception cref="IOException">A mount point was met (nothing of it was deleted), or a deletion failed.</exception>
    public static void Delete(SafeFileHandle parent, string name)
    {
        var (directory, errno) = MountNative.OpenAt2(parent, name, MountNative.OPath | MountNative.ODirectory | MountNative.ONoFollow, MountNative.ResolveStrict);
        if (directory is null)
        {
            if (errno == (int)LibC.ENOENT)
            {
                return;
            }

            if (errno == (int)LibC.EXDEV)
            {
                throw new IOException($"{name} is a mount point: not deleted");
            }

            if (errno != (int)LibC.ENOTDIR && errno != (int)LibC.ELOOP)
            {
                throw new IOException($"opening {name} to delete it failed: errno {errno}");
            }

            Unlink(parent, name, 0);
            return;
        }

        using (directory)
        {
            foreach (var child in Names(directory))
            {
                Delete(directory, child);
            }
        }

        Unlink(parent, name, LibC.AT_REMOVEDIR);
    }

    /// <summary>Whether <paramref name="handle"/> is open on a directory.</summary>
    public static bool IsDirectory(SafeFileHandle handle)
    {
        stat open;
        return LibC.fstat(Fd(handle), &open) == 0 && (open.st_mode & LibC.S_IFMT) == LibC.S_IFDIR;
    }

    /// <summary>The path of what <paramref name="handle"/> is open on, as the kernel resolved it (no link left in it).</summary>
    public static string PathOf(SafeFileHandle handle) =>
        new FileInfo("/proc/self/fd/" + Fd(handle).ToString(CultureInfo.InvariantCulture)).LinkTarget
            ?? throw new IOException("the path of an open file cannot be read");

    /// <summary>Whether <paramref name="handle"/> is open on the file at <paramref name="path"/> (same device and inode).</summary>
    public static bool SameFile(SafeFileHandle handle, string path)
    {
        stat open, named;
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            if (LibC.fstat(Fd(handle), &open) < 0 || LibC.stat(p, &named) < 0)
            {
                return false;
            }
        }

        return open.st_dev == named.st_dev && open.st_ino == named.st_ino;
    }

    private static void Unlink(SafeFileHandle parent, string name, int flags)
    {
        var bytes = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = bytes)
        {
            if (LibC.unlinkat(Fd(parent), p, flags) < 0 && LibC.errno != LibC.ENOENT)
            {
                throw new IOException($"deleting {name} failed: errno {LibC.errno}");
            }
        }
    }

    private static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();
}
