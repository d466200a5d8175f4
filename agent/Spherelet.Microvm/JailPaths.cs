namespace Spherelet.Microvm;

/// <summary>Where a confined QEMU finds what it was given, inside its jail's root.</summary>
internal static class JailPaths
{
    /// <summary>The guest kernel (PVH ELF), read-only.</summary>
    public const string Kernel = "/vm/kernel";

    /// <summary>The guest initramfs, read-only.</summary>
    public const string Initramfs = "/vm/initramfs";

    /// <summary>The pod share (the host's pod share, bound recursively).</summary>
    public const string Share = "/pod";

    /// <summary>The file names, in the VM's directory on the host (root's), of the sockets the agent binds and QEMU serves on.</summary>
    public const string QmpSocketName = "qmp.sock";

    public const string ConsoleSocketName = "console.sock";
}
