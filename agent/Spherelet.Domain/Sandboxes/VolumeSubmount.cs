namespace Spherelet.Domain.Sandboxes;

/// <summary>A mount under a host path mount: <paramref name="PathInVolume"/> below the host path, bound at <paramref name="InShare"/> in the pod share.</summary>
public sealed record VolumeSubmount(string PathInVolume, string InShare);
