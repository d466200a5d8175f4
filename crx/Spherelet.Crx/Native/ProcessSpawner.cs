using System.Runtime.InteropServices;
using System.Text;

namespace Spherelet.Crx.Native;

/// <summary>
/// Starts programs with posix_spawn: chosen fds as 0, 1 and 2, default signal handling,
/// an empty signal mask, optionally a new session. CRX never uses
/// System.Diagnostics.Process: as PID 1 it reaps every child itself (<see cref="Reaper"/>).
/// </summary>
internal static unsafe class ProcessSpawner
{
    /// <returns>The child's pid.</returns>
    /// <exception cref="IOException">posix_spawn failed.</exception>
    public static int Spawn(string path, IReadOnlyList<string> argv, IReadOnlyList<string> env, int stdin, int stdout, int stderr, bool newSession)
    {
        var actions = NativeMemory.AllocZeroed(512);
        var attr = NativeMemory.AllocZeroed(512);
        var sigset = NativeMemory.AllocZeroed(256);
        var strings = new List<nint>();
        try
        {
            Check(Sys.posix_spawn_file_actions_init((nint)actions), "posix_spawn_file_actions_init");
            Check(Sys.posix_spawnattr_init((nint)attr), "posix_spawnattr_init");
            Check(Sys.posix_spawn_file_actions_adddup2((nint)actions, stdin, 0), "adddup2 stdin");
            Check(Sys.posix_spawn_file_actions_adddup2((nint)actions, stdout, 1), "adddup2 stdout");
            Check(Sys.posix_spawn_file_actions_adddup2((nint)actions, stderr, 2), "adddup2 stderr");
            Sys.sigfillset((nint)sigset);
            Check(Sys.posix_spawnattr_setsigdefault((nint)attr, (nint)sigset), "setsigdefault");
            Sys.sigemptyset((nint)sigset);
            Check(Sys.posix_spawnattr_setsigmask((nint)attr, (nint)sigset), "setsigmask");
            var flags = (short)(Sys.POSIX_SPAWN_SETSIGDEF | Sys.POSIX_SPAWN_SETSIGMASK | (newSession ? Sys.POSIX_SPAWN_SETSID : 0));
            Check(Sys.posix_spawnattr_setflags((nint)attr, flags), "setflags");

            var argvPtr = StringArray(argv, strings);
            var envPtr = StringArray(env, strings);
            var pathPtr = Utf8(path, strings);
            int pid;
            int rc;
            lock (Reaper.SpawnLock)
            {
                rc = Sys.posix_spawn(out pid, (byte*)pathPtr, (nint)actions, (nint)attr, (byte**)argvPtr, (byte**)envPtr);
                if (rc == 0)
                {
                    Reaper.Expect(pid);
                }
            }

            if (rc != 0)
            {
                throw new IOException($"cannot start {path}: {Marshal.GetPInvokeErrorMessage(rc)} ({rc})");
            }

            return pid;
        }
        finally
        {
            Sys.posix_spawn_file_actions_destroy((nint)actions);
            Sys.posix_spawnattr_destroy((nint)attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
            NativeMemory.Free(sigset);
            foreach (var p in strings)
            {
                NativeMemory.Free((void*)p);
            }
        }
    }

    private static void Check(int rc, string what)
    {
        if (rc != 0)
        {
            throw new IOException($"{what} failed: {Marshal.GetPInvokeErrorMessage(rc)} ({rc})");
        }
    }

    private static nint StringArray(IReadOnlyList<string> values, List<nint> owned)
    {
        var array = (nint*)NativeMemory.AllocZeroed((nuint)((values.Count + 1) * sizeof(nint)));
        owned.Add((nint)array);
        for (var i = 0; i < values.Count; i++)
        {
            array[i] = Utf8(values[i], owned);
        }

        return (nint)array;
    }

    private static nint Utf8(string value, List<nint> owned)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var p = (byte*)NativeMemory.Alloc((nuint)bytes.Length + 1);
        bytes.CopyTo(new Span<byte>(p, bytes.Length));
        p[bytes.Length] = 0;
        owned.Add((nint)p);
        return (nint)p;
    }
}
