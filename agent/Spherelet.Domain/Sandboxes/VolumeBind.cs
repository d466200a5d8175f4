namespace Spherelet.Domain.Sandboxes;

/// <summary>
/// Where a host path mount is in the pod share: its top at <paramref name="InShare"/>, and each
/// mount found under the host path bound on its own (<paramref name="Submounts"/>, parents
/// first), so that no copy of those mounts sits on the host path's own directories (the host
/// can still unmount and remove them while the pod runs, as with a container's mount namespace).
/// </summary>
public sealed record VolumeBind(string InShare, IReadOnlyList<VolumeSubmount> Submounts);
