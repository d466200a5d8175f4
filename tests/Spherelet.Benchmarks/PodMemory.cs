using System.Globalization;

namespace Spherelet.Benchmarks;

/// <summary>Host memory of pod VMs: the proportional set size (PSS) of processes.</summary>
internal static class PodMemory
{
    /// <summary>PSS of the QEMU that runs the pod <paramref name="sandboxId"/> (VM <c>sph-</c> + 12 hex digits), in MiB: libvirt's or the microvm backend's.</summary>
    public static double QemuPssMib(string sandboxId) => PssMib(QemuPid(sandboxId));

    /// <summary>
    /// The PSS of a pod's QEMU in three parts, in MiB: guest RAM the guest has touched (anonymous
    /// read-write mappings of 64 MiB and more: the VM's memory and its plug-in regions), the TCG
    /// translation cache (the anonymous read-write-execute code buffer; none under KVM) and
    /// QEMU's own (the rest: its code, heap, device state, I/O buffers).
    /// </summary>
    public static (double GuestRam, double Translation, double Own) QemuPssSplitMib(string sandboxId)
    {
        var pid = QemuPid(sandboxId);
        double guest = 0, translation = 0, total = 0;
        string header = string.Empty;
        long size = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 5 && fields[0].Contains('-', StringComparison.Ordinal) && !line.EndsWith(':'))
            {
                header = line;
                continue;
            }

            if (fields.Length >= 2 && fields[0] == "Size:")
            {
                size = long.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            else if (fields.Length >= 2 && fields[0] == "Pss:")
            {
                var mib = long.Parse(fields[1], CultureInfo.InvariantCulture) / 1024.0;
                var parts = header.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var anonymous = parts.Length == 5 && parts[4] == "0";
                total += mib;
                if (anonymous && parts[1] == "rwxp")
                {
                    translation += mib;
                }
                else if (anonymous && parts[1] == "rw-p" && size >= 64 * 1024)
                {
                    guest += mib;
                }
            }
        }

        return (guest, translation, total - guest - translation);
    }

    private static int QemuPid(string sandboxId) => Spherelet.IntegrationTests.Sandboxes.Microvms.AnyQemuPid("sph-" + sandboxId[..12]);

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
