using System.Globalization;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Spherelet.Agent.Mounts;

/// <summary>The agent's mount table (/proc/self/mountinfo) and lazy detaches of whole mounts.</summary>
internal static unsafe class HostMountTable
{
    /// <summary>The topmost mount points strictly below <paramref name="directory"/>: detaching each takes the mounts under it along.</summary>
    public static IReadOnlyList<string> Below(string directory)
    {
        var root = Path.GetFullPath(directory).TrimEnd('/') + "/";
        var below = MountPoints().Where(m => m.StartsWith(root, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).OrderBy(m => m.Length).ToList();
        return below.Where(m => !below.Any(other => other != m && m.StartsWith(other + "/", StringComparison.Ordinal))).ToList();
    }

    /// <summary>Every mount point strictly below <paramref name="directory"/>, each once, parents before what is mounted under them.</summary>
    public static IReadOnlyList<string> AllBelow(string directory)
    {
        var root = Path.GetFullPath(directory).TrimEnd('/') + "/";
        return MountPoints()
            .Where(m => m.StartsWith(root, StringComparison.Ordinal) && m.Length > root.Length)
            .Distinct(StringComparer.Ordinal)
            .OrderBy(m => m.Count(c => c == '/'))
            .ThenBy(m => m, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Detaches the mount at <paramref name="mountPoint"/> with everything under it, not following a link at its last component.</summary>
    public static void Detach(string mountPoint)
    {
        var bytes = Encoding.UTF8.GetBytes(mountPoint + "\0");
        fixed (byte* p = bytes)
        {
            if (LibC.umount2(p, LibC.MNT_DETACH | LibC.UMOUNT_NOFOLLOW) < 0 && LibC.errno != LibC.EINVAL && LibC.errno != LibC.ENOENT)
            {
                throw new IOException($"umount of {mountPoint} failed: errno {LibC.errno}");
            }
        }
    }

    /// <summary>Detaches the mount whose root <paramref name="handle"/> is open on, with everything under it.</summary>
    /// <returns>False when it is not the root of a mount (nothing was detached).</returns>
    public static bool DetachByDescriptor(SafeFileHandle handle)
    {
        var bytes = Encoding.UTF8.GetBytes("/proc/self/fd/" + ((int)handle.DangerousGetHandle()).ToString(CultureInfo.InvariantCulture) + "\0");
        fixed (byte* p = bytes)
        {
            if (LibC.umount2(p, LibC.MNT_DETACH) == 0)
            {
                return true;
            }

            return LibC.errno == LibC.EINVAL ? false : throw new IOException($"umount failed: errno {LibC.errno}");
        }
    }

    /// <summary>Mount points from /proc/self/mountinfo (field 5), with octal escapes decoded.</summary>
    public static IEnumerable<string> MountPoints() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length > 4)
            .Select(fields => Decode(fields[4]));

    /// <summary>Every mount of the agent's namespace, in the table's order (a mount after the one it sits on).</summary>
    public static IReadOnlyList<MountEntry> Entries() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length > 4)
            .Select(fields => new MountEntry(int.Parse(fields[0], CultureInfo.InvariantCulture), fields[2], Decode(fields[3]), Decode(fields[4])))
            .ToList();

    private static string Decode(string field)
    {
        var result = new StringBuilder();
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length)
            {
                result.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                result.Append(field[i]);
            }
        }

        return result.ToString();
    }
}
