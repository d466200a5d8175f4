namespace Spherelet.Crx.Containers;

/// <summary>A container root file system CRX mounted: the overlay's mount point and the directory of its upper and work dirs.</summary>
internal sealed record RootfsMount(string Target, string Directory);
