namespace Spherelet.Microvm;

/// <summary>Where a confined QEMU finds what it was given, inside its jail's root.</summary>
internal static class JailPaths
{
    /// <summary>The guest kernel (PVH ELF), read-only.</summary>
    public const string Kernel = "/vm/kernel";

    /// <summary>The guest initramfs, read-only.</summary>
    public const string Initramfs = "/vm/initramfs";

    /// <summary>The guest's serial console: a socket the agent copies into the pod's console log.</summary>
    public const string ConsoleSocket = "/run/console.sock";

    public const string ConsoleSocketName = "console.sock";

    /// <summary>The pod share (the host's pod share, bound recursively).</summary>
    public const string Share = "/pod";

    /// <summary>The VM's own writable directory (its sockets): the host's <c>STATE/vm/NAME</c>.</summary>
    public const string Run = "/run";

    public const string QmpSocket = "/run/qmp.sock";

    /// <summary>The file name of the CRX channel socket in <see cref="Run"/> (the host's VmSpec.ChannelSocketPath must be in the bound directory under it).</summary>
    public const string QmpSocketName = "qmp.sock";
}
