namespace Spherelet.Images;

/// <summary>Bytes and inodes the image store uses on its file system, at <see cref="Timestamp"/> (Unix nanoseconds).</summary>
public sealed record ImageFsUsage(string Mountpoint, ulong UsedBytes, ulong InodesUsed, long Timestamp);
