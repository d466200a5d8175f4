namespace Spherelet.Crx.Containers;

/// <summary>A container root file system CRX mounted: the overlay's mount point and the directory of its upper and work dirs.</summary>
internal sealed record RootfsMount(string Target, string Directory)
{
    /// <summary>The overlay's upper directory: the container's writable layer.</summary>
    public string UpperDirectory => Path.Combine(Directory, "upper");
}
