using System.Diagnostics;
using System.Net.Sockets;
using Spherelet.Crx.Protocol;
using Spherelet.Tests.Shared;

namespace Spherelet.Benchmarks;

/// <summary>
/// The baseline of the pod VM benchmarks: QEMU run directly with the pod VM's command line
/// (<see cref="GuestQemuCommand"/>), no libvirt and no daemon.
/// </summary>
internal static class PlainQemu
{
    /// <summary>QEMU (q35, the bzImage) from exec until CRX answers Hello on the channel, in ms; QEMU is killed after.</summary>
    public static Task<double> ToReadyAsync(string kernel, string initramfs)
    {
        var directory = Directory.CreateTempSubdirectory("sph-bench-vm-").FullName;
        return ToReadyAsync(directory, GuestQemuCommand.Arguments(kernel, initramfs, directory, "null", string.Empty));
    }

    /// <summary>QEMU (microvm, the PVH kernel, virtio-mmio; neither jailed nor driven by the agent) from exec until CRX answers Hello, in ms.</summary>
    public static Task<double> MicrovmToReadyAsync(string pvhKernel, string initramfs)
    {
        var directory = Directory.CreateTempSubdirectory("sph-bench-vm-").FullName;
        return ToReadyAsync(directory, GuestQemuCommand.MicrovmArguments(pvhKernel, initramfs, directory));
    }

    private static async Task<double> ToReadyAsync(string directory, List<string> arguments)
    {
        var start = new ProcessStartInfo("qemu-system-x86_64") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in arguments)
        {
            start.ArgumentList.Add(arg);
        }

        var watch = Stopwatch.StartNew();
        using var qemu = Process.Start(start)!;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var path = Path.Combine(directory, "crx.sock");
            while (!File.Exists(path))
            {
                await Task.Delay(5, timeout.Token);
            }

            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), timeout.Token);
            await using var client = await CrxClient.ConnectAsync(new NetworkStream(socket, ownsSocket: true), "bench", timeout.Token);
            return watch.Elapsed.TotalMilliseconds;
        }
        finally
        {
            if (!qemu.HasExited)
            {
                qemu.Kill();
                await qemu.WaitForExitAsync();
            }

            Directory.Delete(directory, recursive: true);
        }
    }
}
