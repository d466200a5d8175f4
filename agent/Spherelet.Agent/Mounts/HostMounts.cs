using System.Text;
using Spherelet.Domain.Sandboxes;
using Tmds.Linux;

namespace Spherelet.Agent.Mounts;

/// <summary>Bind mounts through mount(2) and umount2(2); mounts are found in /proc/self/mountinfo.</summary>
public sealed class HostMounts : IHostMounts
{
    public Task BindAsync(string source, string target, BindAccess access, bool followHost, CancellationToken cancellationToken)
    {
        if (Native(source, target, "bind", LibC.MS_BIND | LibC.MS_REC) < 0)
        {
            throw new IOException($"bind mount of {source} on {target} failed: errno {LibC.errno}");
        }

        // Private: nothing mounted later under the source leaks into the share, and back.
        // Slave: what the host mounts later under the source appears in the share, nothing goes back.
        var propagation = followHost ? LibC.MS_SLAVE : LibC.MS_PRIVATE;
        if (Native(null, target, null, propagation | LibC.MS_REC) < 0)
        {
            var errno = LibC.errno;
            _ = Unmount(target);
            throw new IOException($"setting the propagation of {target} failed: errno {errno}");
        }

        // A bind mount is made read-only by remounting it (the first mount ignores MS_RDONLY),
        // which touches its top only; mount_setattr makes the mounts under it read-only too.
        var failed = access switch
        {
            BindAccess.ReadOnly => Native(null, target, null, LibC.MS_REMOUNT | LibC.MS_BIND | LibC.MS_RDONLY) < 0 ? LibC.errno : 0,
            BindAccess.RecursiveReadOnly => MountNative.MakeReadOnlyRecursively(target),
            _ => 0,
        };
        if (failed != 0)
        {
            _ = Unmount(target);
            throw new IOException($"making {target} read-only{(access == BindAccess.RecursiveReadOnly ? " recursively (mount_setattr, Linux 5.12 or later)" : string.Empty)} failed: errno {failed}");
        }

        return Task.CompletedTask;
    }

    public Task MakeSharedAsync(string directory)
    {
        var path = Path.GetFullPath(directory).TrimEnd('/');
        Directory.CreateDirectory(path);
        if (!MountPoints().Contains(path) && Native(path, path, "bind", LibC.MS_BIND | LibC.MS_REC) < 0)
        {
            throw new IOException($"bind mount of {path} onto itself failed: errno {LibC.errno}");
        }

        if (Native(null, path, null, LibC.MS_SHARED | LibC.MS_REC) < 0)
        {
            throw new IOException($"making {path} a shared mount failed: errno {LibC.errno}");
        }

        return Task.CompletedTask;
    }

    public Task UnmountAllUnderAsync(string path)
    {
        var root = Path.GetFullPath(path).TrimEnd('/');
        // Deepest first, so that nested mounts go before their parents.
        foreach (var mountPoint in MountPoints().Where(m => m == root || m.StartsWith(root + "/", StringComparison.Ordinal)).OrderByDescending(m => m.Length))
        {
            if (Unmount(mountPoint) < 0 && LibC.errno != LibC.EINVAL)
            {
                throw new IOException($"umount of {mountPoint} failed: errno {LibC.errno}");
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Mount points from /proc/self/mountinfo (field 5), with octal escapes decoded.</summary>
    public static IEnumerable<string> MountPoints() =>
        File.ReadLines("/proc/self/mountinfo")
            .Select(line => line.Split(' '))
            .Where(fields => fields.Length > 4)
            .Select(fields => Decode(fields[4]));

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

    private static unsafe int Native(string? source, string target, string? type, ulong flags)
    {
        var s = source is null ? null : Encoding.UTF8.GetBytes(source + "\0");
        var t = Encoding.UTF8.GetBytes(target + "\0");
        var f = type is null ? null : Encoding.UTF8.GetBytes(type + "\0");
        fixed (byte* sp = s)
        fixed (byte* tp = t)
        fixed (byte* fp = f)
        {
            return LibC.mount(sp, tp, fp, (ulong_t)flags, null);
        }
    }

    private static unsafe int Unmount(string target)
    {
        var t = Encoding.UTF8.GetBytes(target + "\0");
        fixed (byte* tp = t)
        {
            return LibC.umount2(tp, LibC.MNT_DETACH);
        }
    }
}
