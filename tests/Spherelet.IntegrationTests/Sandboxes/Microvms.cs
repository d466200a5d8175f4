using System.Globalization;
using System.Text;

namespace Spherelet.IntegrationTests.Sandboxes;

/// <summary>The microvm backend's QEMUs as the host sees them: found by their VM name, read from /proc, killed by pid when a test left them.</summary>
public static class Microvms
{
    /// <summary>The pid of the QEMU running VM <paramref name="vmName"/>; null when none runs.</summary>
    public static int? QemuPid(string vmName)
    {
        var wanted = Encoding.UTF8.GetBytes($"\0-name\0{vmName},");
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var cmdline = File.ReadAllBytes(Path.Combine(entry, "cmdline"));
                if (cmdline.AsSpan().IndexOf(wanted) >= 0 && File.ReadAllText(Path.Combine(entry, "stat")).Split(") ")[1][0] != 'Z')
                {
                    return pid;
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return null;
    }

    /// <summary>The pid of the QEMU running pod VM <paramref name="vmName"/> on either backend: libvirt's pid file, else the microvm's QEMU.</summary>
    /// <exception cref="InvalidOperationException">No QEMU runs it.</exception>
    public static int AnyQemuPid(string vmName)
    {
        var pidFile = $"/run/libvirt/qemu/{vmName}.pid";
        return File.Exists(pidFile)
            ? int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture)
            : QemuPid(vmName) ?? throw new InvalidOperationException($"no QEMU runs {vmName}");
    }

    /// <summary>The fields of /proc/PID/status (Uid, Gid, CapEff, Seccomp, ...).</summary>
    public static IReadOnlyDictionary<string, string> Status(int pid) =>
        File.ReadAllLines($"/proc/{pid}/status")
            .Select(line => line.Split(':', 2))
            .Where(parts => parts.Length == 2)
            .ToDictionary(parts => parts[0], parts => parts[1].Trim(), StringComparer.Ordinal);

    /// <summary>Kills the QEMUs of the microvm records under <paramref name="state"/> (what a failed test left), by pid.</summary>
    public static void KillLeftovers(string state)
    {
        var records = Path.Combine(state, "microvm");
        if (!Directory.Exists(records))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(records, "sph-*.json"))
        {
            if (QemuPid(Path.GetFileNameWithoutExtension(file)) is { } pid)
            {
                try
                {
                    System.Diagnostics.Process.GetProcessById(pid).Kill();
                }
                catch (ArgumentException)
                {
                }
            }
        }
    }
}
