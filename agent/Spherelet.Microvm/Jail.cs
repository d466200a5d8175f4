using System.Diagnostics;
using System.Globalization;
using Spherelet.Microvm.Native;

namespace Spherelet.Microvm;

/// <summary>
/// Starts a QEMU confined as Firecracker's jailer confines its VMM, on a thread of its own that
/// leaves the agent's namespaces (a thread can: mount and network namespaces are per task once it
/// stops sharing its file system context) and then spawns it:
/// <list type="bullet">
/// <item>its tap is made in the host's network namespace and handed over as a descriptor, then QEMU gets a network namespace of its own with nothing in it;</item>
/// <item>its QMP, CRX channel and console sockets are bound by the agent in the VM's directory (root's) and handed over as listening descriptors: QEMU has no writable directory at all;</item>
/// <item>a mount namespace whose root is a small read-only tmpfs holding only <c>/usr</c>, the loader cache, four device nodes, a <c>/proc</c> that shows only its own uid's processes and nothing else, and what <see cref="JailSpec.Binds"/> gives (its kernel, initramfs, console log, sockets directory and pod share); it receives the host's later mounts under those (volumes bound into the share) but sends none back;</item>
/// <item>IPC and UTS namespaces of its own;</item>
/// <item>then <c>nsenter</c> puts it in the VM's user namespace as its root (host ids of the VM's own, which own what the host's root owns in its idmapped share and nothing else), <c>setpriv</c> drops every capability from all sets including the bounding set, clears its groups and sets no_new_privs, and QEMU's <c>-sandbox</c> adds its seccomp filter.</item>
/// </list>
/// Spawns are one at a time: a tap descriptor must reach only its own QEMU.
/// </summary>
internal static class Jail
{
    private static readonly SemaphoreSlim Spawns = new(1, 1);

    public const string SetprivPath = "/usr/bin/setpriv";

    public const string NsenterPath = "/usr/bin/nsenter";

    /// <summary>Starts QEMU in its jail; returns the process (QEMU itself: setpriv executes it in place).</summary>
    /// <exception cref="IOException">The jail could not be made (a namespace, a mount, the tap).</exception>
    public static async Task<Process> SpawnAsync(JailSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        await Spawns.WaitAsync(cancellationToken);
        try
        {
            var started = new TaskCompletionSource<Process>(TaskCreationOptions.RunContinuationsAsynchronously);
            var thread = new Thread(() =>
            {
                try
                {
                    started.SetResult(SpawnHere(spec));
                }
                catch (Exception e)
                {
                    started.SetException(e);
                }
            })
            {
                IsBackground = true,
                Name = "spherelet-jail",
            };
            thread.Start();
            var process = await started.Task;
            thread.Join();
            return process;
        }
        finally
        {
            Spawns.Release();
        }
    }

    /// <summary>Runs on a thread that is thrown away after: its namespaces and root are the jail's.</summary>
    private static Process SpawnHere(JailSpec spec)
    {
        var inherited = new List<int>();
        try
        {
            var qmp = Inherit(inherited, JailNative.ListenUnix(spec.Sockets.Qmp));
            var channel = Inherit(inherited, JailNative.ListenUnix(spec.Sockets.Channel));
            var console = Inherit(inherited, JailNative.ListenUnix(spec.Sockets.Console));
            JailNative.Unshare(JailNative.CloneFs | JailNative.CloneNewNs | JailNative.CloneNewIpc | JailNative.CloneNewUts, "mount, ipc and uts namespaces");
            var tap = spec.Tap is null ? -1 : Inherit(inherited, JailNative.OpenTap(spec.Tap, spec.Mtu));
            // Inherited by nsenter alone (spawns are one at a time), which joins it by /proc/self/fd.
            var userNamespace = Inherit(inherited, JailNative.Duplicate(spec.UserNamespace));
            JailNative.Unshare(JailNative.CloneNewNet, "network namespace");
            // Host mounts made later under what is bound here (volumes in the share) still arrive; nothing goes back.
            JailNative.Mount(null, "/", null, JailNative.MsRec | JailNative.MsSlave, null);
            var root = spec.MountPoint;
            JailNative.Mount("tmpfs", root, "tmpfs", JailNative.MsNoSuid, "mode=755,size=256k,nr_inodes=256");
            Directory.CreateDirectory(Path.Combine(root, "usr"));
            foreach (var link in new[] { "bin", "lib", "lib64", "sbin" })
            {
                File.CreateSymbolicLink(Path.Combine(root, link), "usr/" + link);
            }

            Bind(root, new JailBind("/usr", "/usr"));
            Bind(root, new JailBind("/etc/ld.so.cache", "/etc/ld.so.cache", IsFile: true));
            foreach (var device in new[] { "null", "zero", "urandom", "random" })
            {
                Bind(root, new JailBind("/dev/" + device, "/dev/" + device, IsFile: true, Writable: true, Device: true));
            }

            foreach (var bind in spec.Binds)
            {
                Bind(root, bind);
            }

            // QEMU's 9p server reaches extended attributes through /proc/self/fd (there are no *at xattr
            // calls): a proc of its own that shows processes only, and only those of its own uid.
            Directory.CreateDirectory(Path.Combine(root, "proc"));
            JailNative.Mount("proc", Path.Combine(root, "proc"), "proc", JailNative.MsNoSuid | JailNative.MsNoDev | JailNative.MsNoExec, "hidepid=invisible,subset=pid");

            var old = Path.Combine(root, ".old");
            Directory.CreateDirectory(old);
            JailNative.PivotRoot(root, old);
            JailNative.ChangeDirectory("/");
            JailNative.DetachMount("/.old");
            JailNative.RemoveDirectory("/.old");
            JailNative.Mount(null, "/", null, JailNative.MsRemount | JailNative.MsRdOnly | JailNative.MsNoSuid, null);

            var start = new ProcessStartInfo(NsenterPath)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = "/",
            };
            start.Environment.Clear();
            start.Environment["PATH"] = "/usr/bin";
            foreach (var argument in (string[])[
                "--user=/proc/self/fd/" + userNamespace.ToString(CultureInfo.InvariantCulture), "--", SetprivPath,
                "--clear-groups", "--bounding-set=-all", "--inh-caps=-all", "--ambient-caps=-all", "--no-new-privs",
                "--", spec.QemuPath])
            {
                start.ArgumentList.Add(argument);
            }

            foreach (var argument in spec.Arguments(new JailDescriptors(tap, qmp, channel, console)))
            {
                start.ArgumentList.Add(argument);
            }

            return Process.Start(start) ?? throw new IOException($"{NsenterPath} did not start");
        }
        finally
        {
            // QEMU holds its copies; the agent keeps none.
            foreach (var fd in inherited)
            {
                JailNative.Close(fd);
            }
        }
    }

    private static int Inherit(List<int> inherited, int fd)
    {
        inherited.Add(fd);
        return fd;
    }

    private static void Bind(string root, JailBind bind)
    {
        var target = root + bind.Target;
        if (bind.IsFile)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            JailNative.MakeFile(target);
        }
        else
        {
            Directory.CreateDirectory(target);
        }

        JailNative.Mount(bind.Source, target, null, JailNative.MsBind | JailNative.MsRec, null);
        var flags = JailNative.MsRemount | JailNative.MsBind | JailNative.MsNoSuid
            | (bind.Device ? 0 : JailNative.MsNoDev)
            | (bind.Writable ? 0 : JailNative.MsRdOnly);
        JailNative.Mount(null, target, null, flags, null);
    }
}
