using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Spherelet.Libvirt.Native;

/// <summary>
/// The lifecycle-event handlers of one connection behind a single native registration.
/// libvirt refuses a second registration of the same callback function for the same event
/// on a connection ("event callback already tracked"), so the handlers are multiplexed
/// here: <c>virConnectDomainEventRegisterAny</c> when the first handler arrives,
/// <c>virConnectDomainEventDeregisterAny</c> when the last one leaves. Each registration
/// passes a <see cref="GCHandle"/> to this object as the opaque pointer, which libvirt
/// releases through <see cref="LibvirtNative.FreeGCHandle"/> once it has dropped the
/// callback, so a callback already running finds its object.
/// </summary>
internal sealed unsafe class LifecycleEvents
{
    private readonly ConnectHandle _connection;
    private readonly Lock _lock = new();
    private volatile Action<DomainLifecycleEvent>[] _handlers = [];
    private int _callbackId = -1;
    private bool _closed;

    internal LifecycleEvents(ConnectHandle connection)
    {
        _connection = connection;
    }

    /// <summary>Adds <paramref name="handler"/>; registers with libvirt if it is the first.</summary>
    /// <exception cref="LibvirtException">libvirt refused the registration.</exception>
    internal IDisposable Subscribe(Action<DomainLifecycleEvent> handler)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_callbackId < 0)
            {
                Register();
            }

            _handlers = [.. _handlers, handler];
        }

        return new LifecycleSubscription(this, handler);
    }

    /// <summary>Removes <paramref name="handler"/>; deregisters from libvirt if it was the last. Never throws.</summary>
    internal void Unsubscribe(Action<DomainLifecycleEvent> handler)
    {
        lock (_lock)
        {
            var index = Array.IndexOf(_handlers, handler);
            if (index < 0)
            {
                return;
            }

            _handlers = [.. _handlers[..index], .. _handlers[(index + 1)..]];
            if (_handlers.Length == 0)
            {
                Deregister();
            }
        }
    }

    /// <summary>Drops every handler and the registration, before the connection closes. Never throws.</summary>
    internal void Close()
    {
        lock (_lock)
        {
            _closed = true;
            _handlers = [];
            Deregister();
        }
    }

    private void Register()
    {
        var opaque = GCHandle.Alloc(this);
        var callbackId = LibvirtNative.virConnectDomainEventRegisterAny(
            _connection,
            0,
            LibvirtConstants.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
            &OnLifecycleEvent,
            GCHandle.ToIntPtr(opaque),
            &LibvirtNative.FreeGCHandle);
        if (callbackId < 0)
        {
            var error = LibvirtNative.TakeLastError("virConnectDomainEventRegisterAny");

            // A failed registration keeps nothing and never calls the free callback.
            opaque.Free();
            throw error;
        }

        _callbackId = callbackId;
    }

    /// <summary>
    /// Over a connection that libvirtd already closed, deregistering fails after libvirt has
    /// dropped the callback locally; there is nothing left to stop, so the error is dropped.
    /// </summary>
    private void Deregister()
    {
        if (_callbackId < 0)
        {
            return;
        }

        var callbackId = _callbackId;
        _callbackId = -1;
        if (LibvirtNative.virConnectDomainEventDeregisterAny(_connection, callbackId) < 0)
        {
            LibvirtNative.virResetLastError();
        }
    }

    /// <summary>
    /// libvirt's <c>virConnectDomainEventCallback</c>, on the event loop thread. The domain is
    /// libvirt's (not freed here); a handler's exception is written to stderr, does not keep
    /// the other handlers from running, and never crosses back into native code.
    /// </summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int OnLifecycleEvent(nint conn, nint dom, int @event, int detail, nint opaque)
    {
        try
        {
            var events = (LifecycleEvents)GCHandle.FromIntPtr(opaque).Target!;
            var handlers = events._handlers;
            if (handlers.Length == 0)
            {
                return 0;
            }

            var (name, uuid) = LibvirtNative.NameAndUuid(dom);
            var lifecycle = new DomainLifecycleEvent(name, uuid, (DomainEventType)@event, detail);
            foreach (var handler in handlers)
            {
                try
                {
                    handler(lifecycle);
                }
                catch (Exception e)
                {
                    Report("handler", e);
                }
            }
        }
        catch (Exception e)
        {
            Report("callback", e);
        }

        return 0;
    }

    private static void Report(string what, Exception e) =>
        Console.Error.WriteLine($"spherelet: libvirt lifecycle event {what} failed: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
}
