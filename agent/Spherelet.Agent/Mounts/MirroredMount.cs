namespace Spherelet.Agent.Mounts;

/// <summary>A mount below a followed volume: its place relative to the volume, its file system (major:minor) and the directory of it that is mounted.</summary>
internal sealed record MirroredMount(string Path, string Device, string Root)
{
    public int Depth => Path.Count(c => c == '/');
}
