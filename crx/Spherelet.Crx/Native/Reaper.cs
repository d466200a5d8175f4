using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Spherelet.Crx.Native;

/// <summary>
/// Reaps every child of CRX, including the orphans the kernel hands to PID 1 (container
/// processes, once the crun that made them exits). One thread blocks in waitpid(-1);
/// whoever waits for a pid (<see cref="WaitAsync"/>) gets its status, even when the
/// process ended before anybody asked.
/// </summary>
internal static class Reaper
{
    /// <summary>Held while spawning, so that a fast child is never reaped before it is expected.</summary>
    public static readonly object SpawnLock = new();

    private static readonly ConcurrentDictionary<int, TaskCompletionSource<int>> Waiters = new();
    private static readonly SemaphoreSlim Children = new(0);
    private static int _started;

    public static void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            new Thread(Run) { IsBackground = true, Name = "reaper" }.Start();
        }
    }

    /// <summary>Marks <paramref name="pid"/> as one whose status somebody will ask for.</summary>
    public static void Expect(int pid)
    {
        Waiters.GetOrAdd(pid, _ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously));
        Children.Release();
    }

    /// <summary>The raw wait status of <paramref name="pid"/>, when it ends.</summary>
    public static Task<int> WaitAsync(int pid) =>
        Waiters.GetOrAdd(pid, _ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Exit code, or 128 + signal for a process a signal ended (as shells report it).</summary>
    public static (int ExitCode, int Signal) Decode(int status)
    {
        var signal = status & 0x7F;
        return signal == 0 ? ((status >> 8) & 0xFF, 0) : (128 + signal, signal);
    }

    private static void Run()
    {
        while (true)
        {
            int pid;
            int status;
            lock (SpawnLock)
            {
                pid = Sys.waitpid(-1, out status, Sys.WNOHANG);
            }

            if (pid > 0)
            {
                Guest.CrxLog.Verbose($"reaped pid {pid} status {status}");
                // An orphan nobody expects is simply reaped; its entry is kept in case a
                // container process is registered right after it ended.
                Waiters.GetOrAdd(pid, _ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(status);
                continue;
            }

            if (pid < 0 && Marshal.GetLastPInvokeError() == Sys.EINTR)
            {
                continue;
            }

            // No child has ended yet: block until one does or a new one starts.
            pid = Sys.waitpid(-1, out status, 0);
            if (pid > 0)
            {
                Guest.CrxLog.Verbose($"reaped pid {pid} status {status} (blocking)");
                lock (SpawnLock)
                {
                    Waiters.GetOrAdd(pid, _ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(status);
                }
            }
            else if (Marshal.GetLastPInvokeError() == Sys.ECHILD)
            {
                Children.Wait(TimeSpan.FromMilliseconds(200));
            }
        }
    }

    /// <summary>Forgets a pid whose status was read, so a later process with the same pid is not confused with it.</summary>
    public static void Forget(int pid) => Waiters.TryRemove(pid, out _);
}
