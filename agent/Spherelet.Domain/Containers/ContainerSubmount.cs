namespace Spherelet.Domain.Containers;

/// <summary>A mount found under a container's host path mount: <paramref name="PathInVolume"/> below its container path, seen by the pod VM at <paramref name="GuestPath"/>.</summary>
public sealed record ContainerSubmount(string PathInVolume, string GuestPath);
