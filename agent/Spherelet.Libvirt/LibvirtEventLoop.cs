using Spherelet.Libvirt.Native;

namespace Spherelet.Libvirt;

/// <summary>
/// libvirt's default event loop, run on one background thread for the whole process.
/// Domain events, close callbacks and keepalive all need it, and libvirt requires it to
/// be registered before the connections that use it are opened:
/// <see cref="LibvirtConnection.Open"/> calls <see cref="EnsureRunning"/>.
/// </summary>
public static class LibvirtEventLoop
{
    private static readonly Lock Gate = new();
    private static bool _running;

    /// <summary>
    /// Registers libvirt's default event loop implementation (<c>virEventRegisterDefaultImpl</c>)
    /// and starts the thread that runs <c>virEventRunDefaultImpl</c> forever. Idempotent and thread-safe.
    /// </summary>
    /// <exception cref="LibvirtException">libvirt could not set up its event loop.</exception>
    public static void EnsureRunning()
    {
        lock (Gate)
        {
            if (_running)
            {
                return;
            }

            LibvirtNative.EnsureInitialized();
            if (LibvirtNative.virEventRegisterDefaultImpl() < 0)
            {
                throw LibvirtNative.TakeLastError("virEventRegisterDefaultImpl");
            }

            var thread = new Thread(Run)
            {
                IsBackground = true,
                Name = "libvirt-events",
            };
            thread.Start();
            _running = true;
        }
    }

    private static void Run()
    {
        while (true)
        {
            if (LibvirtNative.virEventRunDefaultImpl() < 0)
            {
                var error = LibvirtNative.TakeLastError("virEventRunDefaultImpl");
                Console.Error.WriteLine($"spherelet: {error.Message.ReplaceLineEndings(" ")}");

                // An iteration that fails keeps failing; do not spin on it.
                Thread.Sleep(TimeSpan.FromSeconds(1));
            }
        }
    }
}
