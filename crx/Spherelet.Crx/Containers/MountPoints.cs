using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Spherelet.Crx.Guest;
using Spherelet.Crx.Native;

namespace Spherelet.Crx.Containers;

/// <summary>
/// Makes the missing mount points of a container's bind mounts in its root file system, as root
/// in the VM, before crun runs. In a user namespace crun cannot make them itself: the image's
/// directories belong to an id the namespace does not map. Every path is resolved inside the
/// root file system (openat2 RESOLVE_IN_ROOT), so a link in the image cannot lead out of it.
/// </summary>
internal static class MountPoints
{
    /// <summary>The mount points of <paramref name="spec"/>'s bind mounts, made below <paramref name="rootfs"/> where missing: a file for a file source, else a directory.</summary>
    public static void Prepare(string rootfs, JsonObject spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec["mounts"] is not JsonArray mounts)
        {
            return;
        }

        var root = Sys.open(rootfs, Sys.O_PATH | Sys.O_DIRECTORY | Sys.O_CLOEXEC, 0);
        if (root < 0)
        {
            throw new IOException($"opening the root file system {rootfs} failed: {Sys.LastError()}");
        }

        try
        {
            foreach (var mount in mounts.OfType<JsonObject>().Where(m => (string?)m["type"] == "bind"))
            {
                var destination = ((string?)mount["destination"] ?? string.Empty).Trim('/');
                var source = (string?)mount["source"] ?? string.Empty;
                if (destination.Length > 0)
                {
                    Make(root, destination, isFile: File.Exists(source));
                }
            }
        }
        finally
        {
            Sys.close(root);
        }
    }

    private static void Make(int root, string relative, bool isFile)
    {
        var existing = Sys.openat2(root, relative, Sys.O_PATH, Sys.RESOLVE_IN_ROOT | Sys.RESOLVE_NO_MAGICLINKS);
        if (existing >= 0)
        {
            Sys.close(existing);
            return;
        }

        var slash = relative.LastIndexOf('/');
        var parent = Directory(root, slash < 0 ? string.Empty : relative[..slash]);
        if (parent < 0)
        {
            CrxLog.Warn($"mount point /{relative}: its directory cannot be made: {Sys.LastError()}");
            return;
        }

        try
        {
            var name = relative[(slash + 1)..];
            if (isFile)
            {
                var fd = Sys.openat(parent, name, Sys.O_CREAT | Sys.O_EXCL | Sys.O_WRONLY | Sys.O_NOFOLLOW | Sys.O_CLOEXEC, 0x1a4);
                if (fd >= 0)
                {
                    Sys.close(fd);
                }
            }
            else if (Sys.mkdirat(parent, name, 0x1ed) != 0 && Marshal.GetLastPInvokeError() != Sys.EEXIST)
            {
                CrxLog.Warn($"mount point /{relative}: {Sys.LastError()}");
            }
        }
        finally
        {
            Sys.close(parent);
        }
    }

    /// <summary>The directory <paramref name="relative"/> below the root, made component by component where missing; -1 when it cannot be.</summary>
    private static int Directory(int root, string relative)
    {
        var current = Sys.openat2(root, ".", Sys.O_PATH | Sys.O_DIRECTORY, Sys.RESOLVE_IN_ROOT);
        var path = string.Empty;
        foreach (var part in relative.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (current < 0)
            {
                return -1;
            }

            path = path.Length == 0 ? part : path + "/" + part;
            var next = Sys.openat2(root, path, Sys.O_PATH | Sys.O_DIRECTORY, Sys.RESOLVE_IN_ROOT | Sys.RESOLVE_NO_MAGICLINKS);
            if (next < 0 && Marshal.GetLastPInvokeError() == Sys.ENOENT)
            {
                if (Sys.mkdirat(current, part, 0x1ed) != 0 && Marshal.GetLastPInvokeError() != Sys.EEXIST)
                {
                    Sys.close(current);
                    return -1;
                }

                next = Sys.openat2(root, path, Sys.O_PATH | Sys.O_DIRECTORY, Sys.RESOLVE_IN_ROOT | Sys.RESOLVE_NO_MAGICLINKS);
            }

            Sys.close(current);
            current = next;
        }

        return current;
    }
}
