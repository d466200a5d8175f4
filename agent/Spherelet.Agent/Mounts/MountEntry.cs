namespace Spherelet.Agent.Mounts;

/// <summary>One line of /proc/self/mountinfo: the mount's id, its file system (major:minor), the directory of it that is mounted, and where.</summary>
internal sealed record MountEntry(int Id, string Device, string Root, string MountPoint);
