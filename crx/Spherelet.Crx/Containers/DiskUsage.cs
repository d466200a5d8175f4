namespace Spherelet.Crx.Containers;

/// <summary>What a directory tree holds: bytes of its files and its number of inodes (symlinks are counted, never followed).</summary>
internal static class DiskUsage
{
    public static (ulong Bytes, ulong Inodes) Measure(string directory)
    {
        ulong bytes = 0;
        ulong inodes = 0;
        try
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 };
            foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos("*", options))
            {
                inodes++;
                if (entry is FileInfo { LinkTarget: null } file)
                {
                    bytes += (ulong)file.Length;
                }
            }
        }
        catch (IOException)
        {
            // The container went away meanwhile.
        }

        return (bytes, inodes);
    }
}
