using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Win32.SafeHandles;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Vmm;
using Tmds.Linux;

namespace Spherelet.Agent.Mounts;

/// <summary>
/// The pods' shares on the host, made with the file-descriptor mount API. A share is the pod's
/// <c>tree</c> (the agent's own directories: mount points only) bound at <c>share</c> read-only,
/// <c>nosuid,nodev</c>, private to the host and shared onwards in a peer group of its own, so that
/// a volume bound under it while the VM runs reaches QEMU's mount namespace and nothing reaches the
/// host's tree. Each bind is a detached copy of its source (<c>open_tree</c>) given its flags before
/// it is attached (<c>mount_setattr</c>, then <c>move_mount</c> onto a descriptor opened below the
/// share with <c>openat2</c> and no links of any kind), so no bind is ever writable or setuid for a
/// moment. Removal detaches whole mounts by descriptor and deletes only what lies on the pod
/// directory's own file system, never following a link.
/// </summary>
public sealed partial class PodShares : IPodShares, IDisposable
{
    private const uint DirectoryMode = 0x1ED; // 0755
    private const uint FileMode = 0x1A4; // 0644

    private readonly SandboxLayout _layout;
    private readonly string _layersDirectory;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _layerGates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, VmIdMap> _idMaps = new(StringComparer.Ordinal);
    private readonly HostMountMirror _mirror;

    /// <param name="layout">Where the pods' directories are.</param>
    /// <param name="layersDirectory">The node's unpacked image layers, one directory per layer named by its digest's hex.</param>
    /// <param name="logger">Where the mirror of host mounts into idmapped volumes logs (none when null).</param>
    public PodShares(SandboxLayout layout, string layersDirectory, ILogger<PodShares>? logger = null)
    {
        _layout = layout;
        _layersDirectory = layersDirectory;
        _mirror = new HostMountMirror(layout.PodsDirectory, layout.PodDirectory, OpenShareRoot, IdMapOf, (ILogger?)logger ?? NullLogger.Instance);
    }

    /// <summary>Stops following host mounts into idmapped volumes (the agent stops; the next one follows again).</summary>
    public void Dispose() => _mirror.Dispose();

    public Task CreateAsync(string sandboxId, VmIdMap? idMap, CancellationToken cancellationToken)
    {
        Adopt(sandboxId, idMap);
        var tree = _layout.Tree(sandboxId);
        var share = _layout.Share(sandboxId);
        Directory.CreateDirectory(_layout.PodsDirectory);
        Directory.CreateDirectory(tree);
        Directory.CreateDirectory(share);
        using var clone = MountNative.OpenTreeClone(tree, recursive: false);
        // Private first: a copy of a shared mount would be a peer of the host's, and binds made in
        // the share would then appear in the agent's tree too.
        MountNative.SetAttributes(clone, MountNative.AttrReadOnly | MountNative.AttrNoSuid | MountNative.AttrNoDev, 0, MountNative.PropagationPrivate, recursive: false, share, IdMapOf(sandboxId));
        using (var target = OpenAgentDirectory(share))
        {
            MountNative.MoveMount(clone, target, share);
        }

        MountNative.SetAttributes(clone, 0, 0, MountNative.PropagationShared, recursive: false, share);
        return Task.CompletedTask;
    }

    public void Adopt(string sandboxId, VmIdMap? idMap)
    {
        if (idMap is null)
        {
            _idMaps.TryRemove(sandboxId, out _);
        }
        else
        {
            _idMaps[sandboxId] = idMap;
            _mirror.Restore(sandboxId);
        }
    }

    /// <summary>The user namespace the pod's mounts are idmapped with, or null when they are not.</summary>
    private SafeFileHandle? IdMapOf(string sandboxId) =>
        _idMaps.TryGetValue(sandboxId, out var map) ? Microvm.IdMappedNamespace.For(map).Handle : null;

    public Task<VolumeBind> BindVolumeAsync(string sandboxId, string containerId, int index, string hostPath, BindAccess access, bool followHost, CancellationToken cancellationToken)
    {
        ValidateName(containerId, "container id");
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var name = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var relative = $"{SandboxLayout.VolumesDirectoryName}/{containerId}/{name}";
        // What is bound is what was checked: the host path as the host resolves it, opened once.
        using var source = OpenHostPath(hostPath);
        using (var container = MakeContainerVolumes(sandboxId, containerId))
        {
            MakeMountPoint(container, name, source);
        }

        // nosuid,nodev on every mount of the volume; read-only on its top, or on all of it.
        var flags = MountNative.AttrNoSuid | MountNative.AttrNoDev;
        var topSet = access == BindAccess.ReadOnly ? MountNative.AttrReadOnly : 0;
        var everywhere = flags | (access == BindAccess.RecursiveReadOnly ? MountNative.AttrReadOnly : 0);
        if (followHost && _idMaps.ContainsKey(sandboxId))
        {
            // Mounts the host makes under the path later must appear, idmapped as the rest of the
            // share: one recursive bind, private, and the mirror copies what the host mounts later.
            Bind(sandboxId, source, hostPath, relative, topSet, everywhere, MountNative.PropagationPrivate, recursive: true);
            _mirror.Follow(new FollowedVolume(sandboxId, containerId, relative, FileTree.PathOf(source), everywhere));
            return Task.FromResult(new VolumeBind(relative, []));
        }

        if (followHost)
        {
            // Mounts the host makes under the path later must appear: one recursive bind, a slave of the host's.
            Bind(sandboxId, source, hostPath, relative, topSet, everywhere, MountNative.PropagationSlave, recursive: true);
            return Task.FromResult(new VolumeBind(relative, []));
        }

        // The top alone, and each mount under it on its own, away from the host path's directories:
        // a copy of a mount that sits on one of them would keep the host from removing it.
        Bind(sandboxId, source, hostPath, relative, topSet, everywhere, MountNative.PropagationPrivate, recursive: false);
        var submounts = BindSubmounts(sandboxId, containerId, name, source, hostPath, everywhere);
        return Task.FromResult(new VolumeBind(relative, submounts));
    }

    /// <summary>
    /// Binds each mount below the host path <paramref name="source"/> is open on at
    /// <c>volumes/CONTAINER/NAME.sub/K</c>, parents first, with <paramref name="set"/>.
    /// </summary>
    private List<VolumeSubmount> BindSubmounts(string sandboxId, string containerId, string name, SafeFileHandle source, string hostPath, ulong set)
    {
        var submounts = new List<VolumeSubmount>();
        if (!FileTree.IsDirectory(source))
        {
            return submounts;
        }

        var resolved = FileTree.PathOf(source);
        var mountPoints = HostMountTable.AllBelow(resolved);
        if (mountPoints.Count == 0)
        {
            return submounts;
        }

        var directory = name + SubmountsSuffix;
        using var container = MakeContainerVolumes(sandboxId, containerId);
        using var parent = MakeDirectory(container, directory);
        foreach (var mountPoint in mountPoints)
        {
            var pathInVolume = mountPoint[(resolved.TrimEnd('/').Length + 1)..];
            // Opened beneath the host path, never through a link: what is bound is below it.
            var (sub, errno) = MountNative.OpenAt2(source, pathInVolume, MountNative.OPath | MountNative.ONoFollow, MountNative.ResolveBeneathNoLinks);
            if (sub is null)
            {
                if (errno == LibC.ENOENT)
                {
                    continue; // unmounted meanwhile
                }

                throw new IOException($"opening the mount {mountPoint} under the host path {hostPath} failed: errno {errno}");
            }

            using (sub)
            {
                var index = submounts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var relative = $"{SandboxLayout.VolumesDirectoryName}/{containerId}/{directory}/{index}";
                MakeMountPoint(parent, index, sub);
                Bind(sandboxId, sub, mountPoint, relative, 0, set, MountNative.PropagationPrivate, recursive: false);
                submounts.Add(new VolumeSubmount(pathInVolume, relative));
            }
        }

        return submounts;
    }

    /// <summary>The directory beside a volume's mount point holding the mounts found under its host path.</summary>
    private const string SubmountsSuffix = ".sub";

    public Task UnbindVolumesAsync(string sandboxId, string containerId)
    {
        ValidateName(containerId, "container id");
        _mirror.Forget(sandboxId, containerId);
        var relative = $"{SandboxLayout.VolumesDirectoryName}/{containerId}";
        using var shareRoot = OpenShareRoot(sandboxId);
        if (shareRoot is null)
        {
            return Task.CompletedTask;
        }

        var (inShare, errno) = MountNative.OpenAt2(shareRoot, relative, MountNative.OPath | MountNative.ODirectory | MountNative.ONoFollow, MountNative.ResolveStrict);
        if (inShare is null)
        {
            return errno == LibC.ENOENT ? Task.CompletedTask : throw new IOException($"opening {relative} in the share of pod {sandboxId} failed: errno {errno}");
        }

        using (inShare)
        {
            foreach (var name in Names(inShare))
            {
                if (name.EndsWith(SubmountsSuffix, StringComparison.Ordinal))
                {
                    DetachChildren(inShare, name, $"{relative}/{name}");
                }
                else
                {
                    DetachAll(inShare, name, $"{relative}/{name}");
                }
            }
        }

        using var tree = OpenAgentDirectory(_layout.Tree(sandboxId));
        using var volumes = OpenBeneath(tree, SandboxLayout.VolumesDirectoryName);
        if (volumes is not null)
        {
            FileTree.Delete(volumes, containerId);
        }

        return Task.CompletedTask;
    }

    public async Task BindLayersAsync(string sandboxId, IReadOnlyList<string> layers, CancellationToken cancellationToken)
    {
        foreach (var layer in layers)
        {
            if (!LayerName().IsMatch(layer))
            {
                throw new ArgumentException($"'{layer}' is not a layer of the image store", nameof(layers));
            }
        }

        var gate = _layerGates.GetOrAdd(sandboxId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            foreach (var layer in layers.Distinct(StringComparer.Ordinal))
            {
                var source = Path.Combine(_layersDirectory, layer);
                var relative = $"{SandboxLayout.LayersDirectoryName}/{layer}";
                if (IsBound(sandboxId, relative, source))
                {
                    continue;
                }

                using (var tree = OpenAgentDirectory(_layout.Tree(sandboxId)))
                using (var directory = MakeDirectory(tree, SandboxLayout.LayersDirectoryName))
                {
                    MakeDirectory(directory, layer).Dispose();
                }

                using var layerDirectory = OpenAgentDirectory(source);
                Bind(sandboxId, layerDirectory, source, relative, 0, MountNative.AttrReadOnly | MountNative.AttrNoSuid | MountNative.AttrNoDev, MountNative.PropagationPrivate, recursive: false);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public Task RemoveAsync(string sandboxId)
    {
        ValidateName(sandboxId, "sandbox id");
        _layerGates.TryRemove(sandboxId, out _);
        _mirror.Forget(sandboxId, null);
        _idMaps.TryRemove(sandboxId, out _);
        var directory = _layout.PodDirectory(sandboxId);
        if (!Directory.Exists(directory))
        {
            return Task.CompletedTask;
        }

        // The share with everything bound in it goes in one lazy detach of its top; whatever else is
        // mounted below the pod directory (a share of an older layout) goes top first, each whole.
        using (var pod = OpenAgentDirectory(directory))
        {
            DetachAll(pod, "share", _layout.Share(sandboxId));
        }

        foreach (var mountPoint in HostMountTable.Below(directory))
        {
            HostMountTable.Detach(mountPoint);
        }

        using var pods = OpenAgentDirectory(_layout.PodsDirectory);
        FileTree.Delete(pods, sandboxId);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Attaches a copy of the mount tree at what <paramref name="source"/> is open on (named
    /// <paramref name="what"/>) at <paramref name="relative"/> in the pod's share:
    /// <paramref name="topSet"/> on its top mount and <paramref name="recursiveSet"/> on every mount
    /// of it, with <paramref name="propagation"/>, all before it is attached.
    /// </summary>
    private void Bind(string sandboxId, SafeFileHandle source, string what, string relative, ulong topSet, ulong recursiveSet, ulong propagation, bool recursive)
    {
        using var clone = MountNative.OpenTreeClone(source, recursive, what);
        MountNative.SetAttributes(clone, recursiveSet, 0, propagation, recursive: true, what, IdMapOf(sandboxId));
        if (topSet != 0)
        {
            MountNative.SetAttributes(clone, topSet, 0, 0, recursive: false, what);
        }

        using var shareRoot = OpenShareRoot(sandboxId) ?? throw new IOException($"pod {sandboxId} has no share");
        var (target, errno) = MountNative.OpenAt2(shareRoot, relative, MountNative.OPath | MountNative.ONoFollow, MountNative.ResolveStrict);
        if (target is null)
        {
            throw new IOException($"the mount point {relative} in the share of pod {sandboxId} cannot be opened: errno {errno}");
        }

        using (target)
        {
            MountNative.MoveMount(clone, target, $"{what} on {relative} in the share of pod {sandboxId}");
        }
    }

    /// <summary>The layer is bound at <paramref name="relative"/> already: what the share shows there is the layer's own directory.</summary>
    private bool IsBound(string sandboxId, string relative, string source)
    {
        using var shareRoot = OpenShareRoot(sandboxId) ?? throw new IOException($"pod {sandboxId} has no share");
        var (inShare, _) = MountNative.OpenAt2(shareRoot, relative, MountNative.OPath | MountNative.ODirectory | MountNative.ONoFollow, MountNative.ResolveBeneathNoLinks);
        if (inShare is null)
        {
            return false;
        }

        using (inShare)
        {
            return FileTree.SameFile(inShare, source);
        }
    }

    /// <summary>The root of the pod's share mount, or null when the pod has no share mounted.</summary>
    private SafeFileHandle? OpenShareRoot(string sandboxId)
    {
        var (pod, errno) = MountNative.OpenAt2(null, _layout.PodDirectory(sandboxId), MountNative.OPath | MountNative.ODirectory | MountNative.ONoFollow, 0);
        if (pod is null)
        {
            return errno == LibC.ENOENT ? null : throw new IOException($"opening the directory of pod {sandboxId} failed: errno {errno}");
        }

        using (pod)
        {
            // Into the share's own mount: the last step crosses onto it, no link anywhere.
            var (share, shareErrno) = MountNative.OpenAt2(pod, "share", MountNative.OPath | MountNative.ODirectory | MountNative.ONoFollow, MountNative.ResolveBeneathNoLinks);
            if (share is null)
            {
                return shareErrno == LibC.ENOENT ? null : throw new IOException($"opening the share of pod {sandboxId} failed: errno {shareErrno}");
            }

            if (!FileTree.SameFile(share, _layout.Tree(sandboxId)))
            {
                share.Dispose();
                return null;
            }

            return share;
        }
    }

    /// <summary>Detaches what is mounted on each entry of the directory <paramref name="name"/> (not a mount itself).</summary>
    private static void DetachChildren(SafeFileHandle parent, string name, string what)
    {
        var (directory, errno) = MountNative.OpenAt2(parent, name, MountNative.OPath | MountNative.ODirectory | MountNative.ONoFollow, MountNative.ResolveStrict);
        if (directory is null)
        {
            if (errno == LibC.ENOENT)
            {
                return;
            }

            throw new IOException($"opening {what} failed: errno {errno}");
        }

        using (directory)
        {
            foreach (var child in Names(directory))
            {
                DetachAll(directory, child, $"{what}/{child}");
            }
        }
    }

    /// <summary>Detaches every mount stacked at <paramref name="name"/> below <paramref name="parent"/>, each with all mounts under it; nothing mounted is fine.</summary>
    private static void DetachAll(SafeFileHandle parent, string name, string what)
    {
        for (var i = 0; i < 64; i++)
        {
            var (mount, errno) = MountNative.OpenAt2(parent, name, MountNative.OPath | MountNative.ONoFollow, MountNative.ResolveBeneathNoLinks);
            if (mount is null)
            {
                if (errno == LibC.ENOENT)
                {
                    return;
                }

                throw new IOException($"opening {what} to detach it failed: errno {errno}");
            }

            using (mount)
            {
                if (!HostMountTable.DetachByDescriptor(mount))
                {
                    return;
                }
            }
        }

        throw new IOException($"{what}: more than 64 mounts stacked");
    }

    /// <summary>
    /// A host path a pod asked for, opened as the host resolves it (links followed: it is the
    /// kubelet's). One that leads into the pods' directories is refused: there another pod's guest
    /// could write, and no pod is given Spherelet's own state.
    /// </summary>
    /// <exception cref="InvalidRequestException">The path leads into the pods' directories.</exception>
    private SafeFileHandle OpenHostPath(string hostPath)
    {
        var (handle, errno) = MountNative.OpenAt2(null, hostPath, MountNative.OPath, 0);
        if (handle is null)
        {
            throw new IOException($"opening the host path {hostPath} failed: errno {errno}");
        }

        var resolved = FileTree.PathOf(handle);
        using var pods = OpenAgentDirectory(_layout.PodsDirectory);
        var podsResolved = FileTree.PathOf(pods);
        if (resolved == podsResolved || resolved.StartsWith(podsResolved + "/", StringComparison.Ordinal))
        {
            handle.Dispose();
            throw new InvalidRequestException($"mount host_path '{hostPath}' leads into Spherelet's pod directories ({resolved}), which no pod may be given");
        }

        return handle;
    }

    private static SafeFileHandle OpenAgentDirectory(string path)
    {
        var (handle, errno) = MountNative.OpenAt2(null, path, MountNative.OPath | MountNative.ODirectory | MountNative.ONoFollow, 0);
        return handle ?? throw new IOException($"opening {path} failed: errno {errno}");
    }

    private static SafeFileHandle? OpenBeneath(SafeFileHandle parent, string name)
    {
        var (handle, errno) = MountNative.OpenAt2(parent, name, MountNative.OPath | MountNative.ODirectory | MountNative.ONoFollow, MountNative.ResolveStrict);
        return handle ?? (errno == LibC.ENOENT ? null : throw new IOException($"opening {name} failed: errno {errno}"));
    }

    /// <summary>Makes directory <paramref name="name"/> below <paramref name="parent"/> unless it is there, and opens it (never through a link).</summary>
    private static SafeFileHandle MakeDirectory(SafeFileHandle parent, string name)
    {
        FileTree.MakeDirectory(parent, name, DirectoryMode);
        return OpenBeneath(parent, name) ?? throw new IOException($"{name} vanished after it was made");
    }

    /// <summary><c>volumes/CONTAINER</c> in the pod's tree, made where missing, opened.</summary>
    private SafeFileHandle MakeContainerVolumes(string sandboxId, string containerId)
    {
        using var tree = OpenAgentDirectory(_layout.Tree(sandboxId));
        using var volumes = MakeDirectory(tree, SandboxLayout.VolumesDirectoryName);
        return MakeDirectory(volumes, containerId);
    }

    /// <summary>A mount point for what <paramref name="source"/> is open on: a directory for a directory, else a file.</summary>
    private static void MakeMountPoint(SafeFileHandle parent, string name, SafeFileHandle source)
    {
        if (FileTree.IsDirectory(source))
        {
            MakeDirectory(parent, name).Dispose();
        }
        else
        {
            MakeFile(parent, name);
        }
    }

    private static void MakeFile(SafeFileHandle parent, string name)
    {
        var (file, errno) = MountNative.OpenAt2(parent, name, MountNative.OCreat | MountNative.OWriteOnly | MountNative.ONoFollow, MountNative.ResolveStrict, FileMode);
        using (file ?? throw new IOException($"making the mount point file {name} failed: errno {errno}"))
        {
        }
    }

    private static IEnumerable<string> Names(SafeFileHandle directory) => FileTree.Names(directory);

    private static void ValidateName(string name, string what)
    {
        if (name.Length == 0 || name.Contains('/', StringComparison.Ordinal) || name is "." or "..")
        {
            throw new ArgumentException($"'{name}' is not a {what}");
        }
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex LayerName();
}
