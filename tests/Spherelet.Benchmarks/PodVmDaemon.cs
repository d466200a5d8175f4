using System.Diagnostics;
using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Benchmarks;

/// <summary>
/// The daemon as built, run for a pod VM benchmark: its own config, root, state and socket
/// under a temporary directory, the guest kernel and initramfs given by the benchmark, the default
/// handler on libvirt (unless the benchmark's settings say otherwise), log output passed to
/// stderr. Stopped by its PID.
/// </summary>
internal static class PodVmDaemon
{
    /// <summary>The CRI socket of a daemon started in <paramref name="directory"/>.</summary>
    public static string Socket(string directory) => Path.Combine(directory, "run", "s.sock");

    /// <param name="environment">More of the daemon's settings as environment variables (<c>SPHERELET__SECTION__KEY</c>), or null.</param>
    public static Process Start(string daemon, string kernel, string initramfs, string directory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var config = Path.Combine(directory, "spherelet.json");
        File.WriteAllText(config, "{}");
        var start = new ProcessStartInfo(daemon) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--config", config, "--socket", Socket(directory), "--root", Path.Combine(directory, "lib"), "--state", Path.Combine(directory, "run"), "--log-level", "Warning" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["SPHERELET__GUEST__KERNELPATH"] = kernel;
        start.Environment["SPHERELET__GUEST__INITRAMFSPATH"] = initramfs;
        // The benchmarks compare pods with a plain q35 boot of the bzImage: their default handler runs
        // libvirt's q35 VMs. The containers benchmark names a handler per backend and measures both.
        start.Environment["SPHERELET__RUNTIMEHANDLERS__default__VMM"] = "libvirt";
        start.Environment["SPHERELET__METRICS__PORT"] = "0";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Waits until the daemon has finished its recovery and answers CRI calls.</summary>
    public static async Task WaitRecoveredAsync(RuntimeService.RuntimeServiceClient client, Process daemon)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (daemon.HasExited)
            {
                throw new InvalidOperationException($"spherelet exited with {daemon.ExitCode}");
            }

            try
            {
                await client.ListPodSandboxAsync(new ListPodSandboxRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                return;
            }
            catch (RpcException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public static async Task StopAsync(Process daemon)
    {
        if (!daemon.HasExited)
        {
            _ = Tmds.Linux.LibC.kill(daemon.Id, Tmds.Linux.LibC.SIGTERM);
            await daemon.WaitForExitAsync();
        }
    }

    /// <summary>The daemon's directory; a pod that could not be removed may still hold a mount in it, which is reported, not thrown.</summary>
    public static void DeleteDirectory(string dir)
    {
        try
        {
            Spherelet.Tests.Shared.MountCleanup.UnmountAllUnder(dir);
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"bench: {dir} not fully removed: {e.Message}");
        }
    }
}
