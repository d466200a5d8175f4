using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;
using Spherelet.Crx.Containers;
using Spherelet.Crx.Guest;
using Spherelet.Crx.Native;
using Spherelet.Crx.Server;

namespace Spherelet.Crx;

/// <summary>
/// CRX. As PID 1 of a pod VM it sets the VM up, then serves the host on the virtio-serial
/// port named on the kernel command line, for as long as the VM runs.
/// <c>crx --listen PATH</c> serves on a Unix socket instead (for tests on a host).
/// </summary>
internal static class Program
{
    private const string StateDirectory = "/run/crx";

    private static async Task<int> Main(string[] args)
    {
        if (Environment.ProcessId == 1)
        {
            await RunAsInitAsync();
            return 0; // Never reached: PID 1 powers the VM off instead of returning.
        }

        if (args.Length == 2 && args[0] == "--listen")
        {
            await ListenAsync(args[1]);
            return 0;
        }

        await Console.Error.WriteLineAsync("usage: crx (as PID 1 of a pod VM) | crx --listen SOCKET");
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
                GuestInit.MountShare(tag);
            }

            var port = await VirtioPorts.FindAsync(settings.ChannelName, TimeSpan.FromSeconds(30));
            var ready = GuestInit.SinceBoot();
            using var server = new CrxServer(new Crun("/bin/crun", StateDirectory), StateDirectory, sandbox, SandboxConfigurator.FilesDirectory, ready, PowerOffAsync);
            CrxLog.Info($"ready after {ready.TotalMilliseconds:0} ms; serving on {port}");
            Console.Out.WriteLine("CRX-READY");
            while (true)
            {
                try
                {
                    using var handle = File.OpenHandle(port, FileMode.Open, FileAccess.ReadWrite);
                    await using var input = new FileStream(handle, FileAccess.Read, 0);
                    await using var output = new FileStream(handle, FileAccess.Write, 0);
                    await server.ServeAsync(input, output, CancellationToken.None);
                }
                catch (IOException e)
                {
                    CrxLog.Verbose("channel: " + e.Message);
                }

                // The host closed the port (or is not connected yet): wait for it to come back.
                await Task.Delay(100);
            }
        }
#pragma warning disable CA1031 // PID 1 must not exit: report, then power the VM off cleanly.
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
                await server.ServeAsync(stream, stream, stop.Token);
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
