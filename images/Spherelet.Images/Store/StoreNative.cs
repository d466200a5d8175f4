using System.Text;
using Tmds.Linux;

namespace Spherelet.Images.Store;

/// <summary>The store's native calls: making renames durable.</summary>
internal static class StoreNative
{
    /// <summary>fsync of a directory, so that a rename into it survives a crash.</summary>
    public static unsafe void SyncDirectory(string directory)
    {
        var path = Encoding.UTF8.GetBytes(directory + "\0");
        fixed (byte* p = path)
        {
            var fd = LibC.open(p, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
            if (fd < 0)
            {
                throw new IOException($"open {directory}: errno {LibC.errno}");
            }

            var synced = LibC.fsync(fd);
            var errno = LibC.errno;
            _ = LibC.close(fd);
            if (synced < 0)
            {
                throw new IOException($"fsync {directory}: errno {errno}");
            }
        }
    }
}
