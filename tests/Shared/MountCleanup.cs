namespace Spherelet.Tests.Shared;

/// <summary>
/// Unmounts what a daemon left below a test or benchmark directory (its shared pods mount, a
/// failed run's binds), so that the directory can be deleted. One source file, linked into the
/// integration tests and the benchmarks.
/// </summary>
internal static class MountCleanup
{
    /// <summary>Lazily unmounts every mount point below <paramref name="directory"/>, deepest first.</summary>
    public static unsafe void UnmountAllUnder(string directory)
    {
        var prefix = directory.TrimEnd('/') + "/";
        var mountPoints = File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(point => point.StartsWith(prefix, StringComparison.Ordinal))
            .OrderByDescending(point => point.Length)
            .ToList();
        foreach (var point in mountPoints)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(point + "\0");
            fixed (byte* p = bytes)
            {
                _ = Tmds.Linux.LibC.umount2(p, Tmds.Linux.LibC.MNT_DETACH);
            }
        }
    }
}
