using Spherelet.Libvirt.Native;

namespace Spherelet.Libvirt;

/// <summary>
/// One open connection to a libvirt daemon (for example <c>qemu:///system</c>).
/// Calls block while libvirtd answers; callers that must not block run them on the
/// thread pool.
/// </summary>
public sealed class LibvirtConnection : IDisposable
{
    private readonly ConnectHandle _handle;

    private LibvirtConnection(string uri, ConnectHandle handle)
    {
        Uri = uri;
        _handle = handle;
    }

    public string Uri { get; }

    /// <summary>True while libvirtd is still reachable over this connection.</summary>
    public bool IsAlive => !_handle.IsClosed && LibvirtNative.virConnectIsAlive(_handle) == 1;

    /// <summary>Opens a read-write connection.</summary>
    /// <exception cref="LibvirtException">libvirtd cannot be reached or refused the connection.</exception>
    public static LibvirtConnection Open(string uri)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        LibvirtNative.EnsureInitialized();
        var handle = LibvirtNative.virConnectOpen(uri);
        if (handle.IsInvalid)
        {
            var error = LibvirtNative.TakeLastError($"connect to {uri}");
            handle.Dispose();
            throw error;
        }

        return new LibvirtConnection(uri, handle);
    }

    /// <summary>The version of the libvirt library that libvirtd runs.</summary>
    public LibvirtVersion DaemonLibraryVersion()
    {
        if (LibvirtNative.virConnectGetLibVersion(_handle, out var version) < 0)
        {
            throw LibvirtNative.TakeLastError("virConnectGetLibVersion");
        }

        return new LibvirtVersion(version);
    }

    /// <summary>The version of the hypervisor behind the connection (QEMU's for qemu:// URIs).</summary>
    public LibvirtVersion HypervisorVersion()
    {
        if (LibvirtNative.virConnectGetVersion(_handle, out var version) < 0)
        {
            throw LibvirtNative.TakeLastError("virConnectGetVersion");
        }

        return new LibvirtVersion(version);
    }

    /// <summary>The version of the libvirt client library loaded into this process.</summary>
    public static LibvirtVersion ClientLibraryVersion()
    {
        LibvirtNative.EnsureInitialized();
        if (LibvirtNative.virGetVersion(out var version, 0, out _) < 0)
        {
            throw LibvirtNative.TakeLastError("virGetVersion");
        }

        return new LibvirtVersion(version);
    }

    public void Dispose() => _handle.Dispose();
}
