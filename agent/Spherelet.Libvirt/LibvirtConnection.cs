using Spherelet.Libvirt.Native;

namespace Spherelet.Libvirt;

/// <summary>
/// One open connection to a libvirt daemon (for example <c>qemu:///system</c>).
/// Calls block while libvirtd answers; callers that must not block run them on the
/// thread pool. Lifecycle event handlers run on libvirt's event loop thread
/// (<see cref="LibvirtEventLoop"/>, which opening a connection starts), close handlers on
/// the thread pool.
/// </summary>
public sealed unsafe class LibvirtConnection : IDisposable
{
    private readonly ConnectHandle _handle;
    private readonly Lock _lock = new();
    private readonly LifecycleEvents _lifecycleEvents;
    private CloseCallback? _closeCallback;
    private bool _disposed;

    private LibvirtConnection(string uri, ConnectHandle handle)
    {
        Uri = uri;
        _handle = handle;
        _lifecycleEvents = new LifecycleEvents(handle);
    }

    public string Uri { get; }

    /// <summary>True while libvirtd is still reachable over this connection.</summary>
    public bool IsAlive => !_handle.IsClosed && LibvirtNative.virConnectIsAlive(_handle) == 1;

    /// <summary>
    /// Opens a read-write connection, after starting libvirt's event loop, with keepalive
    /// probes (every 5 s, closed after 3 unanswered) on remote connections such as
    /// <c>qemu:///system</c> from a client process, so a hung libvirtd is noticed.
    /// </summary>
    /// <exception cref="LibvirtException">libvirtd cannot be reached or refused the connection.</exception>
    public static LibvirtConnection Open(string uri)
    {
        ArgumentException.ThrowIfNullOrEmpty(uri);
        LibvirtEventLoop.EnsureRunning();
        var handle = LibvirtNative.virConnectOpen(uri);
        if (handle.IsInvalid)
        {
            var error = LibvirtNative.TakeLastError($"connect to {uri}");
            handle.Dispose();
            throw error;
        }

        // Drivers that run inside this process (test:///, embedded) have no keepalive.
        if (LibvirtNative.virConnectSetKeepAlive(handle, LibvirtConstants.KeepAliveIntervalSeconds, LibvirtConstants.KeepAliveCount) < 0)
        {
            LibvirtNative.virResetLastError();
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

    /// <summary>Defines (or redefines) a persistent domain from its XML (<c>virDomainDefineXML</c>); does not start it.</summary>
    /// <exception cref="LibvirtException">The XML is invalid, or libvirt refused it.</exception>
    public LibvirtDomain DefineDomain(string xml)
    {
        ArgumentException.ThrowIfNullOrEmpty(xml);
        return Domain(LibvirtNative.virDomainDefineXML(_handle, xml), "define domain", allowMissing: false)!;
    }

    /// <summary>The domain named <paramref name="name"/>, or null when there is none.</summary>
    /// <exception cref="LibvirtException">libvirtd could not be asked.</exception>
    public LibvirtDomain? LookupDomainByName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return Domain(LibvirtNative.virDomainLookupByName(_handle, name), $"look up domain {name}", allowMissing: true);
    }

    /// <summary>The domain with UUID <paramref name="uuid"/>, or null when there is none.</summary>
    /// <exception cref="LibvirtException">libvirtd could not be asked.</exception>
    public LibvirtDomain? LookupDomainByUuid(Guid uuid)
    {
        var text = uuid.ToString("D");
        return Domain(LibvirtNative.virDomainLookupByUUIDString(_handle, text), $"look up domain {text}", allowMissing: true);
    }

    /// <summary>Every domain, defined or running (<c>virConnectListAllDomains</c> without flags). The caller disposes them.</summary>
    /// <exception cref="LibvirtException">libvirtd could not be asked.</exception>
    public IReadOnlyList<LibvirtDomain> ListAllDomains()
    {
        var count = LibvirtNative.virConnectListAllDomains(_handle, out var array, 0);
        if (count < 0)
        {
            throw LibvirtNative.TakeLastError("list domains");
        }

        // Own every reference before anything can fail, then free libvirt's array.
        var handles = new DomainHandle[count];
        var pointers = (nint*)array;
        for (var i = 0; i < count; i++)
        {
            handles[i] = new DomainHandle(pointers[i]);
        }

        LibvirtNative.free(pointers);

        var domains = new List<LibvirtDomain>(count);
        try
        {
            foreach (var handle in handles)
            {
                domains.Add(new LibvirtDomain(handle));
            }
        }
        catch
        {
            foreach (var handle in handles)
            {
                handle.Dispose();
            }

            throw;
        }

        return domains;
    }

    /// <summary>
    /// Calls <paramref name="handler"/> for every lifecycle event of every domain until the
    /// returned object is disposed. The handlers of a connection share one libvirt
    /// registration (<c>virConnectDomainEventRegisterAny</c> with
    /// <c>VIR_DOMAIN_EVENT_ID_LIFECYCLE</c>), made for the first and deregistered
    /// (<c>virConnectDomainEventDeregisterAny</c>) after the last. Handlers run on libvirt's
    /// event loop thread, so they must be quick; an exception one throws is written to
    /// stderr and dropped. An event being delivered while the subscription is disposed may
    /// still reach the handler.
    /// </summary>
    /// <exception cref="LibvirtException">libvirt refused the registration.</exception>
    public IDisposable SubscribeLifecycleEvents(Action<DomainLifecycleEvent> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _lifecycleEvents.Subscribe(handler);
        }
    }

    /// <summary>
    /// Calls <paramref name="handler"/> once, on the thread pool, when libvirt closes this
    /// connection on its own: libvirtd stopped or restarted, or keepalive timed out
    /// (<c>virConnectRegisterCloseCallback</c>). The argument is the
    /// <c>VIR_CONNECT_CLOSE_REASON_*</c> value. Disposing the connection calls no handler.
    /// A handler added after the close runs at once.
    /// </summary>
    /// <exception cref="LibvirtException">libvirt refused the registration.</exception>
    public void OnClosed(Action<int> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        CloseCallback callback;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            callback = _closeCallback ??= CloseCallback.Register(_handle);
        }

        callback.Add(handler);
    }

    /// <summary>Deregisters the callbacks that are left, then closes the connection.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _lifecycleEvents.Close();
            if (_closeCallback is not null)
            {
                CloseCallback.Unregister(_handle);
            }
        }

        _handle.Dispose();
    }

    /// <summary>
    /// Wraps a domain reference that a lookup returned; a null reference becomes null when
    /// <paramref name="allowMissing"/> and libvirt said VIR_ERR_NO_DOMAIN, else the error.
    /// </summary>
    private static LibvirtDomain? Domain(DomainHandle handle, string operation, bool allowMissing)
    {
        if (handle.IsInvalid)
        {
            var error = LibvirtNative.TakeLastError(operation);
            handle.Dispose();
            if (allowMissing && error.Code == LibvirtConstants.VIR_ERR_NO_DOMAIN)
            {
                return null;
            }

            throw error;
        }

        return new LibvirtDomain(handle);
    }
}
