using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Spherelet.Domain.Vmm;

namespace Spherelet.Microvm;

/// <summary>
/// A user namespace that maps ids 0 to Count-1 onto a VM's host ids (<see cref="VmIdMap"/>), held by a
/// descriptor: what a microvm's QEMU runs in, and what the pod share's mounts are idmapped with, so that
/// QEMU, with no capability at all, owns what the host's root owns in the share and the guest sees every
/// file with the owner it has on the host. Made once per map by a short-lived <c>unshare --user</c> whose
/// maps the agent writes (it may: it is root in the parent namespace), and kept until the VM is deleted.
/// </summary>
public sealed class IdMappedNamespace : IDisposable
{
    private static readonly ConcurrentDictionary<uint, Lazy<IdMappedNamespace>> Cache = new();

    private IdMappedNamespace(VmIdMap map, SafeFileHandle handle)
    {
        Map = map;
        Handle = handle;
    }

    public VmIdMap Map { get; }

    /// <summary>An open <c>/proc/PID/ns/user</c> of the namespace (close-on-exec).</summary>
    public SafeFileHandle Handle { get; }

    /// <summary>The namespace of <paramref name="map"/>, made on first use.</summary>
    /// <exception cref="IOException">It could not be made (unshare missing, maps refused).</exception>
    public static IdMappedNamespace For(VmIdMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var lazy = Cache.GetOrAdd(map.HostId, _ => new Lazy<IdMappedNamespace>(() => Create(map), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            var found = lazy.Value;
            return found.Map == map ? found : throw new IOException($"host id {map.HostId} is mapped by {found.Map.Count} ids, not {map.Count}");
        }
        catch
        {
            Cache.TryRemove(new KeyValuePair<uint, Lazy<IdMappedNamespace>>(map.HostId, lazy));
            throw;
        }
    }

    /// <summary>Drops the namespace of a deleted VM (mounts and processes made with it keep theirs).</summary>
    public static void Release(VmIdMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (Cache.TryRemove(map.HostId, out var lazy) && lazy.IsValueCreated)
        {
            lazy.Value.Dispose();
        }
    }

    private static IdMappedNamespace Create(VmIdMap map)
    {
        var start = new ProcessStartInfo("/usr/bin/unshare") { UseShellExecute = false, RedirectStandardInput = true };
        foreach (var argument in (string[])["--user", "--", "/usr/bin/cat"])
        {
            start.ArgumentList.Add(argument);
        }

        using var holder = Process.Start(start) ?? throw new IOException("unshare did not start");
        try
        {
            var proc = $"/proc/{holder.Id.ToString(CultureInfo.InvariantCulture)}";
            var own = new FileInfo("/proc/self/ns/user").LinkTarget;
            var deadline = Stopwatch.GetTimestamp() + (5 * Stopwatch.Frequency);
            while (new FileInfo(proc + "/ns/user").LinkTarget == own)
            {
                if (holder.HasExited || Stopwatch.GetTimestamp() > deadline)
                {
                    throw new IOException("unshare --user did not make a user namespace");
                }

                Thread.Sleep(1);
            }

            var line = $"0 {map.HostId.ToString(CultureInfo.InvariantCulture)} {map.Count.ToString(CultureInfo.InvariantCulture)}\n";
            File.WriteAllText(proc + "/uid_map", line);
            File.WriteAllText(proc + "/gid_map", line);
            var handle = File.OpenHandle(proc + "/ns/user", FileMode.Open, FileAccess.Read);
            return new IdMappedNamespace(map, handle);
        }
        finally
        {
            holder.StandardInput.Close();
            if (!holder.WaitForExit(5000))
            {
                holder.Kill();
            }
        }
    }

    public void Dispose() => Handle.Dispose();
}
