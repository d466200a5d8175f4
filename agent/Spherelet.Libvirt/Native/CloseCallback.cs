using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Spherelet.Libvirt.Native;

/// <summary>
/// The handlers to call when libvirt closes a connection on its own (libvirtd stopped or
/// restarted, keepalive timeout), behind one <c>virConnectRegisterCloseCallback</c>
/// registration: libvirt allows one close callback per connection. Handlers run once, on
/// the thread pool: libvirt calls the close callback with a lock held that disposing the
/// connection needs too, so a handler that reconnects must not run on that thread.
/// </summary>
internal sealed unsafe class CloseCallback
{
    private readonly List<Action<int>> _handlers = [];
    private readonly Lock _lock = new();
    private int? _reason;

    private CloseCallback()
    {
    }

    /// <summary>Registers a close callback on <paramref name="connection"/> that calls the handlers added later.</summary>
    /// <exception cref="LibvirtException">libvirt refused the registration.</exception>
    internal static CloseCallback Register(ConnectHandle connection)
    {
        var callback = new CloseCallback();
        var opaque = GCHandle.Alloc(callback);
        if (LibvirtNative.virConnectRegisterCloseCallback(connection, &OnClose, GCHandle.ToIntPtr(opaque), &LibvirtNative.FreeGCHandle) < 0)
        {
            var error = LibvirtNative.TakeLastError("virConnectRegisterCloseCallback");
            opaque.Free();
            throw error;
        }

        return callback;
    }

    /// <summary>
    /// Removes the registration before the connection is closed, so that closing it on
    /// purpose calls no handler. Never throws (after a close libvirt has already dropped it).
    /// </summary>
    internal static void Unregister(ConnectHandle connection)
    {
        if (LibvirtNative.virConnectUnregisterCloseCallback(connection, &OnClose) < 0)
        {
            LibvirtNative.virResetLastError();
        }
    }

    /// <summary>Adds a handler; if the connection has closed already, it is called right away (on the thread pool).</summary>
    internal void Add(Action<int> handler)
    {
        int reason;
        lock (_lock)
        {
            if (_reason is null)
            {
                _handlers.Add(handler);
                return;
            }

            reason = _reason.Value;
        }

        Invoke(handler, reason);
    }

    private static void Invoke(Action<int> handler, int reason) =>
        ThreadPool.QueueUserWorkItem(
            static state =>
            {
                try
                {
                    state.Handler(state.Reason);
                }
                catch (Exception e)
                {
                    Console.Error.WriteLine($"spherelet: libvirt connection close handler failed: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
                }
            },
            (Handler: handler, Reason: reason),
            preferLocal: false);

    /// <summary>libvirt's <c>virConnectCloseFunc</c>, on the event loop thread; nothing thrown may cross back into native code.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnClose(nint conn, int reason, nint opaque)
    {
        try
        {
            var callback = (CloseCallback)GCHandle.FromIntPtr(opaque).Target!;
            Action<int>[] handlers;
            lock (callback._lock)
            {
                if (callback._reason is not null)
                {
                    return;
                }

                callback._reason = reason;
                handlers = [.. callback._handlers];
                callback._handlers.Clear();
            }

            foreach (var handler in handlers)
            {
                Invoke(handler, reason);
            }
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"spherelet: libvirt connection close callback failed: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
        }
    }
}
