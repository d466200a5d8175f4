using Microsoft.Win32.SafeHandles;
using Spherelet.Agent.Mounts;
using Spherelet.Domain.Containers;
using Tmds.Linux;

namespace Spherelet.Agent.Containers;

/// <summary>
/// CRI log files in the kubelet's pod log directories, opened below the directory with openat2:
/// every component of the relative path resolved without links and without leaving it.
/// </summary>
public sealed class HostLogFiles : IHostLogFiles
{
    private const uint DirectoryMode = 0x1ED; // 0755
    private const uint FileMode = 0x1A0; // 0640
    private const ulong OAppend = 0x400;
    private const ulong OReadOnly = 0;

    public Stream OpenAppend(string logDirectory, string relativePath)
    {
        var (parent, name) = OpenParent(logDirectory, relativePath, create: true);
        using (parent)
        {
            var (file, errno) = MountNative.OpenAt2(parent, name!, MountNative.OWriteOnly | OAppend | MountNative.OCreat | MountNative.ONoFollow, MountNative.ResolveBeneathNoLinks, FileMode);
            return file is null
                ? throw new IOException($"opening the log file {relativePath} in {logDirectory} failed: {Why(errno)}")
                : new FileStream(file, FileAccess.Write, bufferSize: 0);
        }
    }

    public byte[] ReadTail(string logDirectory, string relativePath, int maxBytes)
    {
        var (parent, name) = OpenParent(logDirectory, relativePath, create: false);
        if (parent is null)
        {
            return [];
        }

        using (parent)
        {
            var (file, errno) = MountNative.OpenAt2(parent, name!, OReadOnly | MountNative.ONoFollow, MountNative.ResolveBeneathNoLinks);
            if (file is null)
            {
                return errno == (int)LibC.ENOENT ? [] : throw new IOException($"reading the log file {relativePath} in {logDirectory} failed: {Why(errno)}");
            }

            using (file)
            {
                var length = RandomAccess.GetLength(file);
                var buffer = new byte[(int)Math.Min(length, maxBytes)];
                var read = RandomAccess.Read(file, buffer, length - buffer.Length);
                return buffer[..read];
            }
        }
    }

    private static string Why(int errno) => errno == (int)LibC.ELOOP ? "it is a link, which is never followed" : $"errno {errno}";

    /// <summary>The directory that holds the file (made as needed when <paramref name="create"/>), and the file's name; null when it is missing.</summary>
    private static (SafeFileHandle? Parent, string? Name) OpenParent(string logDirectory, string relativePath, bool create)
    {
        var parts = relativePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts.Any(p => p is "." or ".."))
        {
            throw new IOException($"'{relativePath}' is not a path below the log directory");
        }

        var (directory, errno) = MountNative.OpenAt2(null, logDirectory, MountNative.OPath | MountNative.ODirectory, 0);
        if (directory is null)
        {
            return !create && errno == (int)LibC.ENOENT ? (null, null) : throw new IOException($"opening the log directory {logDirectory} failed: errno {errno}");
        }

        foreach (var part in parts[..^1])
        {
            if (create)
            {
                FileTree.MakeDirectory(directory, part, DirectoryMode);
            }

            var (next, nextErrno) = MountNative.OpenAt2(directory, part, MountNative.OPath | MountNative.ODirectory | MountNative.ONoFollow, MountNative.ResolveBeneathNoLinks);
            directory.Dispose();
            if (next is null)
            {
                return !create && nextErrno == (int)LibC.ENOENT ? (null, null) : throw new IOException($"opening {part} in {logDirectory} failed: errno {nextErrno}");
            }

            directory = next;
        }

        return (directory, parts[^1]);
    }
}
