using System.Text;
using Tmds.Linux;

namespace Spherelet.Agent.Persistence;

/// <summary>
/// Writes a file so that a reader (or the agent after a crash) sees either the old or
/// the new content, never a part: temp file, fsync, rename, fsync of the directory.
/// </summary>
public static class AtomicFile
{
    public static async Task WriteAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))
            ?? throw new ArgumentException($"'{path}' has no directory", nameof(path));
        Directory.CreateDirectory(directory);
        var temporary = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                Options = FileOptions.Asynchronous,
            }))
            {
                await stream.WriteAsync(content, cancellationToken);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }

        SyncDirectory(directory);
    }

    /// <summary>Makes a rename in <paramref name="directory"/> durable.</summary>
    private static unsafe void SyncDirectory(string directory)
    {
        var bytes = Encoding.UTF8.GetBytes(directory + "\0");
        fixed (byte* p = bytes)
        {
            var fd = LibC.open(p, LibC.O_RDONLY | LibC.O_DIRECTORY | LibC.O_CLOEXEC);
            if (fd < 0)
            {
                throw new IOException($"cannot open directory '{directory}' to sync it: errno {LibC.errno}");
            }

            try
            {
                if (LibC.fsync(fd) < 0)
                {
                    throw new IOException($"fsync of directory '{directory}' failed: errno {LibC.errno}");
                }
            }
            finally
            {
                _ = LibC.close(fd);
            }
        }
    }
}
