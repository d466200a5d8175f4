namespace Spherelet.Domain.Containers;

/// <summary>What the host's device nodes are.</summary>
public interface IHostDevices
{
    /// <summary>The block device <paramref name="path"/> names, with every symlink resolved (the kubelet names raw block volumes by a link); null when it is not a block device.</summary>
    string? ResolveBlockDevice(string path);
}
