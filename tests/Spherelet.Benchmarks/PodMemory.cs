using System.Globalization;

namespace Spherelet.Benchmarks;

/// <summary>Host memory of pod VMs: the proportional set size (PSS) of processes.</summary>
internal static class PodMemory
{
    /// <summary>PSS of the QEMU that libvirt runs for the pod <paramref name="sandboxId"/> (domain <c>sph-</c> + 12 hex digits), in MiB.</summary>
    public static async Task<double> QemuPssMibAsync(string sandboxId)
    {
        var vm = "sph-" + sandboxId[..12];
        var pid = int.Parse((await File.ReadAllTextAsync($"/run/libvirt/qemu/{vm}.pid")).Trim(), CultureInfo.InvariantCulture);
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
