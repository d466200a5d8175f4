using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Tmds.Linux;

namespace Spherelet.Agent.Mounts;

/// <summary>
/// Host-to-container propagation for volumes in an idmapped share. A mount the host makes under
/// such a volume's host path later cannot arrive by propagation: the copy would not be idmapped,
/// and the VMM, which holds no capability, could not read the root-owned directories in it. So the
/// volume is bound privately, and this mirror watches the host's mount table (poll on
/// /proc/self/mountinfo) and gives the share an idmapped copy of each mount that appears below the
/// host path, at the same place in the volume, and detaches the copy once the host's is gone. A
/// mount is matched by its place, its file system and its root, so what the mirror follows can be
/// read back from the table after an agent restart. The copies follow the host within
/// milliseconds, not atomically as kernel propagation does.
/// </summary>
internal sealed partial class HostMountMirror : IDisposable
{
    private const string RecordName = "followed.json";

    private readonly Func<string, string> _podDirectory;
    private readonly Func<string, SafeFileHandle?> _openShareRoot;
    private readonly Func<string, SafeFileHandle?> _idmapOf;
    private readonly string _podsDirectory;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly List<FollowedVolume> _followed = [];
    private readonly HashSet<string> _reported = new(StringComparer.Ordinal);
    private Thread? _watcher;
    private bool _disposed;

    /// <param name="podsDirectory">Where the pods' directories are (mounts below it are never mirrored: they are the shares themselves).</param>
    /// <param name="podDirectory">A pod's directory by sandbox id, where what it follows is recorded.</param>
    /// <param name="openShareRoot">Opens the root of a pod's share mount, or null when it has none.</param>
    /// <param name="idmapOf">The user namespace a pod's mounts are idmapped with, or null.</param>
    public HostMountMirror(string podsDirectory, Func<string, string> podDirectory, Func<string, SafeFileHandle?> openShareRoot, Func<string, SafeFileHandle?> idmapOf, ILogger logger)
    {
        _podsDirectory = podsDirectory;
        _podDirectory = podDirectory;
        _openShareRoot = openShareRoot;
        _idmapOf = idmapOf;
        _logger = logger;
    }

    /// <summary>Starts following a volume bound at <see cref="FollowedVolume.InShare"/>, records it with its pod, and mirrors what the host has there now.</summary>
    public void Follow(FollowedVolume volume)
    {
        lock (_lock)
        {
            _followed.Add(volume);
            Save(volume.SandboxId);
            Reconcile(HostMountTable.Entries(), [volume]);
            EnsureWatching();
        }
    }

    /// <summary>Stops following the volumes of <paramref name="containerId"/> (null: all of the pod's), before they are detached.</summary>
    public void Forget(string sandboxId, string? containerId)
    {
        lock (_lock)
        {
            var forgotten = _followed.Where(v => v.SandboxId == sandboxId && (containerId is null || v.ContainerId == containerId)).ToList();
            _followed.RemoveAll(forgotten.Contains);
            // What was reported of them goes too: the set holds only volumes still followed.
            _reported.RemoveWhere(key => forgotten.Any(v => key.StartsWith(ReportPrefix(v), StringComparison.Ordinal)));
            if (forgotten.Count > 0 && containerId is not null)
            {
                Save(sandboxId);
            }
        }
    }

    /// <summary>Follows again what a pod followed before the agent restarted (its record), and catches up with the host's table.</summary>
    public void Restore(string sandboxId)
    {
        var path = Path.Combine(_podDirectory(sandboxId), RecordName);
        if (!File.Exists(path))
        {
            return;
        }

        var volumes = JsonSerializer.Deserialize(File.ReadAllText(path), FollowedVolumesJson.Default.ListFollowedVolume) ?? [];
        lock (_lock)
        {
            _followed.RemoveAll(v => v.SandboxId == sandboxId);
            _followed.AddRange(volumes.Where(v => v.SandboxId == sandboxId));
            Reconcile(HostMountTable.Entries(), _followed.Where(v => v.SandboxId == sandboxId).ToList());
            EnsureWatching();
        }
    }

    private void Save(string sandboxId)
    {
        var directory = _podDirectory(sandboxId);
        if (!Directory.Exists(directory))
        {
            return;
        }

        var path = Path.Combine(directory, RecordName);
        var volumes = _followed.Where(v => v.SandboxId == sandboxId).ToList();
        if (volumes.Count == 0)
        {
            File.Delete(path);
            return;
        }

        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(volumes, FollowedVolumesJson.Default.ListFollowedVolume));
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Stops watching (the agent stops); the copies stay, and the next agent follows again from the records.</summary>
    public void Dispose()
    {
        Thread? watcher;
        lock (_lock)
        {
            _disposed = true;
            watcher = _watcher;
        }

        watcher?.Join(TimeSpan.FromSeconds(5));
    }

    private void EnsureWatching()
    {
        if (_watcher is not null || _followed.Count == 0 || _disposed)
        {
            return;
        }

        _watcher = new Thread(Watch) { IsBackground = true, Name = "host-mount-mirror" };
        _watcher.Start();
    }

    /// <summary>Wakes on every change of the host's mount table while any volume is followed, and mirrors it.</summary>
    private unsafe void Watch()
    {
        var table = File.OpenHandle("/proc/self/mountinfo", FileMode.Open, FileAccess.Read);
        try
        {
            var poll = new pollfd { fd = (int)table.DangerousGetHandle(), events = LibC.POLLPRI };
            while (true)
            {
                // POLLPRI|POLLERR: the table changed since the last poll of this descriptor.
                var ready = LibC.poll(&poll, 1, 250);
                lock (_lock)
                {
                    if (_followed.Count == 0 || _disposed)
                    {
                        _watcher = null;
                        return;
                    }

                    if (ready > 0)
                    {
                        Reconcile(HostMountTable.Entries(), _followed);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogWatchFailed(e.Message);
            lock (_lock)
            {
                _watcher = null;
            }
        }
        finally
        {
            table.Dispose();
        }
    }

    /// <summary>For each volume, detaches copies whose host mount is gone (deepest first), then copies what is new (parents first).</summary>
    private void Reconcile(IReadOnlyList<MountEntry> table, IReadOnlyList<FollowedVolume> volumes)
    {
        var podsPrefix = ResolvedPodsDirectory().TrimEnd('/') + "/";
        foreach (var volume in volumes)
        {
            try
            {
                ReconcileOne(table, volume, podsPrefix);
            }
            catch (IOException e)
            {
                Report(volume, string.Empty, e.Message);
            }
        }
    }

    /// <summary>
    /// The pods directory as the mount table shows it: with every symbolic link on the way resolved
    /// (a root reached through a link would otherwise not know the shares' own mounts for what they are).
    /// </summary>
    private string ResolvedPodsDirectory()
    {
        var (pods, _) = MountNative.OpenAt2(null, _podsDirectory, MountNative.OPath | MountNative.ODirectory, 0);
        if (pods is null)
        {
            return _podsDirectory;
        }

        using (pods)
        {
            return FileTree.PathOf(pods);
        }
    }

    /// <param name="podsPrefix">The resolved pods directory with a trailing slash: nothing below it is mirrored.</param>
    private void ReconcileOne(IReadOnlyList<MountEntry> table, FollowedVolume volume, string podsPrefix)
    {
        using var shareRoot = _openShareRoot(volume.SandboxId);
        if (shareRoot is null)
        {
            return;
        }

        var sharePrefix = FileTree.PathOf(shareRoot).TrimEnd('/') + "/" + volume.InShare + "/";
        var hostPrefix = volume.HostPath.TrimEnd('/') + "/";
        var wanted = table
            .Where(e => e.MountPoint.Length > hostPrefix.Length && e.MountPoint.StartsWith(hostPrefix, StringComparison.Ordinal) && !(e.MountPoint + "/").StartsWith(podsPrefix, StringComparison.Ordinal))
            .Select(e => new MirroredMount(e.MountPoint[hostPrefix.Length..], e.Device, e.Root))
            .ToList();
        var present = table
            .Where(e => e.MountPoint.StartsWith(sharePrefix, StringComparison.Ordinal))
            .Select(e => new MirroredMount(e.MountPoint[sharePrefix.Length..], e.Device, e.Root))
            .ToList();

        var stale = Minus(present, wanted);
        var missing = Minus(wanted, present);
        foreach (var mount in stale.OrderByDescending(m => m.Depth))
        {
            var (handle, errno) = MountNative.OpenAt2(shareRoot, volume.InShare + "/" + mount.Path, MountNative.OPath | MountNative.ONoFollow, MountNative.ResolveBeneathNoLinks);
            if (handle is null)
            {
                continue; // gone with its parent
            }

            using (handle)
            {
                if (HostMountTable.DetachByDescriptor(handle))
                {
                    LogDetached(volume.SandboxId, volume.ContainerId, mount.Path);
                }
            }
        }

        if (missing.Count == 0)
        {
            return;
        }

        var (hostRoot, hostErrno) = MountNative.OpenAt2(null, volume.HostPath, MountNative.OPath | MountNative.ODirectory, 0);
        if (hostRoot is null)
        {
            Report(volume, string.Empty, $"opening the host path failed: errno {hostErrno}");
            return;
        }

        using (hostRoot)
        {
            foreach (var mount in missing.OrderBy(m => m.Depth))
            {
                Mirror(volume, shareRoot, hostRoot, mount);
            }
        }
    }

    private void Mirror(FollowedVolume volume, SafeFileHandle shareRoot, SafeFileHandle hostRoot, MirroredMount mount)
    {
        var what = $"{volume.HostPath.TrimEnd('/')}/{mount.Path}";
        // The host's mount, reached below the host path without a link; the place for its copy, below the volume.
        var (source, errno) = MountNative.OpenAt2(hostRoot, mount.Path, MountNative.OPath | MountNative.ONoFollow, MountNative.ResolveBeneathNoLinks);
        if (source is null)
        {
            if (errno != LibC.ENOENT)
            {
                Report(volume, mount.Path, $"opening {what} failed: errno {errno}");
            }

            return;
        }

        using (source)
        {
            var (target, targetErrno) = MountNative.OpenAt2(shareRoot, volume.InShare + "/" + mount.Path, MountNative.OPath | MountNative.ONoFollow, MountNative.ResolveBeneathNoLinks);
            if (target is null)
            {
                Report(volume, mount.Path, $"its place in the volume cannot be opened: errno {targetErrno}");
                return;
            }

            using (target)
            {
                try
                {
                    using var clone = MountNative.OpenTreeClone(source, recursive: false, what);
                    MountNative.SetAttributes(clone, volume.Attributes, 0, MountNative.PropagationPrivate, recursive: false, what, _idmapOf(volume.SandboxId));
                    MountNative.MoveMount(clone, target, $"{what} in the share of pod {volume.SandboxId}");
                    LogMirrored(volume.SandboxId, volume.ContainerId, what, mount.Path);
                }
                catch (IOException e)
                {
                    Report(volume, mount.Path, e.Message);
                }
            }
        }
    }

    /// <summary>Logs a mount that cannot be mirrored once per volume and place (the table changes often).</summary>
    private void Report(FollowedVolume volume, string path, string reason)
    {
        if (_reported.Add($"{ReportPrefix(volume)}{path}/{reason}"))
        {
            LogNotMirrored(volume.SandboxId, volume.ContainerId, volume.HostPath, path, reason);
        }
    }

    private static string ReportPrefix(FollowedVolume volume) => $"{volume.SandboxId}/{volume.InShare}/";

    /// <summary>What is in <paramref name="all"/> and not in <paramref name="taken"/>, counting repeats.</summary>
    private static List<MirroredMount> Minus(List<MirroredMount> all, List<MirroredMount> taken)
    {
        var left = new List<MirroredMount>(taken);
        var result = new List<MirroredMount>();
        foreach (var mount in all)
        {
            if (!left.Remove(mount))
            {
                result.Add(mount);
            }
        }

        return result;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "host mount mirrored sandbox={SandboxId} container={ContainerId} host_mount={HostMount} in_volume={InVolume}")]
    private partial void LogMirrored(string sandboxId, string containerId, string hostMount, string inVolume);

    [LoggerMessage(Level = LogLevel.Information, Message = "host mount copy detached sandbox={SandboxId} container={ContainerId} in_volume={InVolume}")]
    private partial void LogDetached(string sandboxId, string containerId, string inVolume);

    [LoggerMessage(Level = LogLevel.Warning, Message = "host mount not mirrored sandbox={SandboxId} container={ContainerId} host_path={HostPath} in_volume={InVolume} reason={Reason}")]
    private partial void LogNotMirrored(string sandboxId, string containerId, string hostPath, string inVolume, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "host mount table watch failed, propagation to idmapped volumes stops reason={Reason}")]
    private partial void LogWatchFailed(string reason);
}
