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
}
