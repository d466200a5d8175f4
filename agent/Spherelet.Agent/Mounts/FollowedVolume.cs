namespace Spherelet.Agent.Mounts;

/// <summary>
/// A volume of an idmapped share whose host path's later mounts are mirrored into it
/// (<see cref="HostMountMirror"/>): bound at <paramref name="InShare"/> in the pod's share from
/// <paramref name="HostPath"/> (resolved), every copy with the mount flags <paramref name="Attributes"/>.
/// </summary>
internal sealed record FollowedVolume(string SandboxId, string ContainerId, string InShare, string HostPath, ulong Attributes);
