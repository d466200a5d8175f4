using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Spherelet.Libvirt.Native;

/// <summary>
/// Every libvirt C API entry point that Spherelet calls, bound from <c>libvirt.so.0</c>.
/// Nothing outside this folder calls libvirt. Errors are per thread in libvirt, so a
/// caller reads them with <see cref="TakeLastError"/> on the same thread, right after
/// the call that failed.
/// </summary>
internal static unsafe partial class LibvirtNative
{
    private const string Library = "libvirt.so.0";
    private const string LibC = "libc.so.6";
    private static readonly Lazy<int> Initialized = new(InitializeOnce, LazyThreadSafetyMode.ExecutionAndPublication);

    [LibraryImport(Library)]
    internal static partial int virInitialize();

    [LibraryImport(Library)]
    internal static partial void virSetErrorFunc(nint userData, delegate* unmanaged[Cdecl]<nint, VirError*, void> handler);

    [LibraryImport(Library)]
    internal static partial VirError* virGetLastError();

    [LibraryImport(Library)]
    internal static partial void virResetLastError();

    [LibraryImport(Library)]
    internal static partial int virGetVersion(out nuint libVer, nint type, out nuint typeVer);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial ConnectHandle virConnectOpen(string name);

    [LibraryImport(Library)]
    internal static partial int virConnectClose(nint conn);

    [LibraryImport(Library)]
    internal static partial int virConnectGetLibVersion(ConnectHandle conn, out nuint libVer);

    [LibraryImport(Library)]
    internal static partial int virConnectGetVersion(ConnectHandle conn, out nuint hvVer);

    [LibraryImport(Library)]
    internal static partial int virConnectIsAlive(ConnectHandle conn);

    [LibraryImport(Library)]
    internal static partial int virConnectSetKeepAlive(ConnectHandle conn, int interval, uint count);

    [LibraryImport(Library)]
    internal static partial int virConnectRegisterCloseCallback(
        ConnectHandle conn,
        delegate* unmanaged[Cdecl]<nint, int, nint, void> cb,
        nint opaque,
        delegate* unmanaged[Cdecl]<nint, void> freecb);

    [LibraryImport(Library)]
    internal static partial int virConnectUnregisterCloseCallback(ConnectHandle conn, delegate* unmanaged[Cdecl]<nint, int, nint, void> cb);

    /// <summary>
    /// Bound for <c>VIR_DOMAIN_EVENT_ID_LIFECYCLE</c> only: <paramref name="cb"/> has the
    /// <c>virConnectDomainEventCallback</c> signature that the generic parameter stands for.
    /// </summary>
    [LibraryImport(Library)]
    internal static partial int virConnectDomainEventRegisterAny(
        ConnectHandle conn,
        nint dom,
        int eventID,
        delegate* unmanaged[Cdecl]<nint, nint, int, int, nint, int> cb,
        nint opaque,
        delegate* unmanaged[Cdecl]<nint, void> freecb);

    [LibraryImport(Library)]
    internal static partial int virConnectDomainEventDeregisterAny(ConnectHandle conn, int callbackID);

    [LibraryImport(Library)]
    internal static partial int virConnectListAllDomains(ConnectHandle conn, out nint domains, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DomainHandle virDomainDefineXML(ConnectHandle conn, string xml);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DomainHandle virDomainLookupByName(ConnectHandle conn, string name);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial DomainHandle virDomainLookupByUUIDString(ConnectHandle conn, string uuidstr);

    [LibraryImport(Library)]
    internal static partial int virDomainFree(nint domain);

    /// <summary>The name, owned by the domain object: not to be freed.</summary>
    [LibraryImport(Library)]
    internal static partial byte* virDomainGetName(nint domain);

    [LibraryImport(Library)]
    internal static partial int virDomainGetUUIDString(nint domain, byte* buf);

    [LibraryImport(Library)]
    internal static partial int virDomainCreate(DomainHandle domain);

    [LibraryImport(Library)]
    internal static partial int virDomainCreateWithFlags(DomainHandle domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainResume(DomainHandle domain);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int virDomainAttachDeviceFlags(DomainHandle domain, string xml, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int virDomainDetachDeviceFlags(DomainHandle domain, string xml, uint flags);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int virDomainUpdateDeviceFlags(DomainHandle domain, string xml, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainDestroy(DomainHandle domain);

    [LibraryImport(Library)]
    internal static partial int virDomainUndefineFlags(DomainHandle domain, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainGetState(DomainHandle domain, out int state, out int reason, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainGetInfo(DomainHandle domain, out VirDomainInfo info);

    [LibraryImport(Library)]
    internal static partial int virDomainSetVcpusFlags(DomainHandle domain, uint nvcpus, uint flags);

    [LibraryImport(Library)]
    internal static partial int virDomainSetMemoryFlags(DomainHandle domain, ulong memoryKiB, uint flags);

    /// <summary>The XML, to be freed with <see cref="free"/>.</summary>
    [LibraryImport(Library)]
    internal static partial byte* virDomainGetXMLDesc(DomainHandle domain, uint flags);

    /// <summary>The metadata, to be freed with <see cref="free"/>.</summary>
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial byte* virDomainGetMetadata(DomainHandle domain, int type, string uri, uint flags);

    [LibraryImport(Library)]
    internal static partial int virEventRegisterDefaultImpl();

    [LibraryImport(Library)]
    internal static partial int virEventRunDefaultImpl();

    /// <summary>C's free(), for memory that libvirt hands over to the caller.</summary>
    [LibraryImport(LibC)]
    internal static partial void free(void* ptr);

    /// <summary>
    /// Initializes libvirt once per process and replaces its default error handler,
    /// which would print every error to stderr, with one that keeps quiet: errors are
    /// read and raised as <see cref="LibvirtException"/> instead.
    /// </summary>
    internal static void EnsureInitialized()
    {
        if (Initialized.Value < 0)
        {
            throw new LibvirtException(0, 0, "virInitialize failed");
        }
    }

    /// <summary>The calling thread's last libvirt error as an exception, and resets it.</summary>
    internal static LibvirtException TakeLastError(string operation)
    {
        var error = virGetLastError();
        if (error == null)
        {
            return new LibvirtException(0, 0, $"{operation} failed without an error from libvirt");
        }

        var message = Marshal.PtrToStringUTF8(error->Message) ?? "unknown libvirt error";
        var exception = new LibvirtException(error->Code, error->Domain, $"{operation}: {message}");
        virResetLastError();
        return exception;
    }

    /// <summary>Copies a string that libvirt handed over (UTF-8, NUL-terminated) and frees it.</summary>
    internal static string TakeString(byte* value)
    {
        try
        {
            return Marshal.PtrToStringUTF8((nint)value) ?? string.Empty;
        }
        finally
        {
            free(value);
        }
    }

    /// <summary>
    /// A domain's name and UUID. The <c>virDomainPtr</c> caches both, so this does not call
    /// libvirtd; <paramref name="domain"/> is one the caller owns or one libvirt lends to a callback.
    /// </summary>
    internal static (string Name, Guid Uuid) NameAndUuid(nint domain)
    {
        var name = virDomainGetName(domain);
        if (name == null)
        {
            throw TakeLastError("virDomainGetName");
        }

        var uuid = stackalloc byte[LibvirtConstants.VIR_UUID_STRING_BUFLEN];
        if (virDomainGetUUIDString(domain, uuid) < 0)
        {
            throw TakeLastError("virDomainGetUUIDString");
        }

        return (Marshal.PtrToStringUTF8((nint)name)!, Guid.Parse(Marshal.PtrToStringUTF8((nint)uuid)!));
    }

    private static int InitializeOnce()
    {
        var rc = virInitialize();
        virSetErrorFunc(0, &IgnoreError);
        return rc;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void IgnoreError(nint userData, VirError* error)
    {
    }

    /// <summary>
    /// The <c>virFreeCallback</c> for every callback registration: libvirt calls it once it
    /// will never call the callback again, and it releases the <see cref="GCHandle"/> that
    /// was passed as the opaque pointer.
    /// </summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    internal static void FreeGCHandle(nint opaque)
    {
        if (opaque != 0)
        {
            GCHandle.FromIntPtr(opaque).Free();
        }
    }
}
