namespace Spherelet.Domain.Sandboxes;

/// <summary>Bind mounts on the host, for what a pod VM must see through its share (the kubelet's log directory, host path volumes).</summary>
public interface IHostMounts
{
    /// <summary>
    /// Bind-mounts <paramref name="source"/> onto <paramref name="target"/> (both directories, or
    /// both files; the target existing), recursively. The bind is private unless
    /// <paramref name="followHost"/>: then mounts made under the source later appear in it too (slave).
    /// Read-only binds are read-only at their top, or with every mount under them for
    /// <see cref="BindAccess.RecursiveReadOnly"/>.
    /// </summary>
    Task BindAsync(string source, string target, BindAccess access, bool followHost, CancellationToken cancellationToken);

    /// <summary>
    /// Makes <paramref name="directory"/> a shared mount point (bound onto itself first when it is
    /// not a mount point), as the kubelet does with its root: binds made below it later then also
    /// appear in the mount namespaces that QEMU processes run in, so a running VM sees them through
    /// its 9p share. Doing it again changes nothing.
    /// </summary>
    Task MakeSharedAsync(string directory);

    /// <summary>Unmounts every mount at or below <paramref name="path"/>; nothing mounted is fine.</summary>
    /// <exception cref="IOException">A mount could not be removed (the caller must then not delete the directory).</exception>
    Task UnmountAllUnderAsync(string path);
}
