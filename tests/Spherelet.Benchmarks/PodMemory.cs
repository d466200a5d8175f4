using System.Globalization;

namespace Spherelet.Benchmarks;

/// <summary>Host memory of pod VMs: the proportional set size (PSS) of processes.</summary>
internal static class PodMemory
{
    /// <summary>PSS of the QEMU that runs the pod <paramref name="sandboxId"/> (VM <c>sph-</c> + 12 hex digits), in MiB: libvirt's or the microvm backend's.</summary>
    public static double QemuPssMib(string sandboxId)
    {
        var vm = "sph-" + sandboxId[..12];
        var pidFile = $"/run/libvirt/qemu/{vm}.pid";
        var pid = File.Exists(pidFile)
            ? int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture)
            : Spherelet.IntegrationTests.Sandboxes.Microvms.QemuPid(vm) ?? throw new InvalidOperationException($"no QEMU runs {vm}");
        return PssMib(pid);
    }

    public static double PssMib(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps_rollup"))
        {
            if (line.StartsWith("Pss:", StringComparison.Ordinal))
            {
                var kib = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
                return kib / 1024.0;
            }
        }

        throw new InvalidDataException($"no Pss in /proc/{pid}/smaps_rollup");
    }
}
