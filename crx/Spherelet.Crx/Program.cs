using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using Spherelet.Crx.Containers;
using Spherelet.Crx.Guest;
using Spherelet.Crx.Native;
using Spherelet.Crx.Server;

namespace Spherelet.Crx;

/// <summary>
/// CRX. <c>crx --init</c>, started by the pod VM's /init, sets the VM up, then serves the
/// host on the virtio-serial port named on the kernel command line for as long as the VM
/// runs. <c>crx --listen PATH</c> serves on a Unix socket instead (for tests on a host).
/// CRX is not PID 1 itself: the .NET runtime reaps every child of a PID 1 on SIGCHLD and
/// would take the exit statuses CRX reports. /init (a busybox shell) is PID 1 and CRX is
/// the child subreaper, so every orphan of the pod still comes to CRX.
/// </summary>
internal static class Program
{
    private const string StateDirectory = "/run/crx";

    private static async Task<int> Main(string[] args)
    {
        // Reads of pipes and of the channel port each hold a pool thread while they wait (.NET has
        // no asynchronous I/O for them on Linux), and a pod VM may have one vCPU: with the pool's
        // default of one thread per CPU, a log entry or an answer would wait for the pool to grow
        // (half a second at a time) behind a container's output pumps.
        ThreadPool.SetMinThreads(32, 32);
        if (args.Length == 1 && args[0] == "--init")
        {
            await RunAsInitAsync();
            return 1; // Reached only when the VM could not be powered off.
        }

        if (args.Length == 2 && args[0] == "--listen")
        {
            await ListenAsync(args[1]);
            return 0;
        }

        await Console.Error.WriteLineAsync("usage: crx --init (in a pod VM) | crx --listen SOCKET");
        return 2;
    }

    private static async Task RunAsInitAsync()
    {
        try
        {
            GuestInit.MountFileSystems();
            var settings = GuestSettings.FromCommandLine(File.ReadAllText("/proc/cmdline"));
            CrxLog.Debug = settings.Debug;
            Sys.prctl(Sys.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
            Reaper.Start();
            var sandbox = new SandboxConfigurator("/bin/busybox", applyToSystem: true);
            try
            {
                await sandbox.LoopbackUpAsync();
            }
            catch (CrxRequestException e)
            {
                CrxLog.Warn("loopback: " + e.Message);
            }

            if (settings.ShareTag is { } tag)
            {
                GuestInit.MountShare(tag, GuestSettings.ShareMountPoint);
            }

            var port = await VirtioPorts.FindAsync(settings.ChannelName, TimeSpan.FromSeconds(30));
            var ready = GuestInit.SinceBoot();
            using var server = new CrxServer(new Crun("/bin/crun", StateDirectory), StateDirectory, sandbox, SandboxConfigurator.FilesDirectory, ready, PowerOffAsync);
            CrxLog.Info($"ready after {ready.TotalMilliseconds:0} ms; serving on {port}");
            Console.Out.WriteLine("CRX-READY");
            using var handle = File.OpenHandle(port, FileMode.Open, FileAccess.ReadWrite);
            await using var input = new FileStream(handle, FileAccess.Read, 0);
            await using var output = new FileStream(handle, FileAccess.Write, 0);
            while (true)
            {
                try
                {
                    await server.ServeAsync(input, output, waitForHost: true, CancellationToken.None);
                }
                catch (IOException e)
                {
                    CrxLog.Warn("channel: " + e.Message);
                    await Task.Delay(100);
                }
            }
        }
#pragma warning disable CA1031 // CRX must not just exit: report, then power the VM off cleanly.
        catch (Exception e)
#pragma warning restore CA1031
        {
            CrxLog.Warn("fatal: " + e);
            await PowerOffAsync(false);
        }
    }

    private static async Task ListenAsync(string path)
    {
        Reaper.Start();
        var state = Path.Combine(Path.GetTempPath(), $"crx-{Environment.ProcessId}");
        var crun = Environment.GetEnvironmentVariable("CRX_CRUN") ?? "/usr/bin/crun";
        var busybox = Environment.GetEnvironmentVariable("CRX_BUSYBOX") ?? "/bin/busybox";
        using var stop = new CancellationTokenSource();
        using var server = new CrxServer(
            new Crun(crun, state), state, new SandboxConfigurator(busybox, applyToSystem: false), Path.Combine(state, "sandbox"), TimeSpan.Zero,
            _ =>
            {
                stop.Cancel();
                return Task.CompletedTask;
            });
        File.Delete(path);
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        while (!stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await listener.AcceptAsync(stop.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            await using var stream = new NetworkStream(connection, ownsSocket: true);
            try
            {
                await server.ServeAsync(stream, stream, waitForHost: false, stop.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException)
            {
                CrxLog.Verbose("connection: " + e.Message);
            }
        }
    }

    private static async Task PowerOffAsync(bool reboot)
    {
        CrxLog.Info(reboot ? "rebooting" : "powering off");
        await Console.Error.FlushAsync();
        Sys.kill(-1, Sys.SIGTERM);
        await Task.Delay(200);
        Sys.kill(-1, Sys.SIGKILL);
        Sys.sync();
        Sys.reboot(reboot ? Sys.LINUX_REBOOT_CMD_RESTART : Sys.LINUX_REBOOT_CMD_POWER_OFF);
    }
}
