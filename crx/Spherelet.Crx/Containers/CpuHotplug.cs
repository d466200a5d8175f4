using System.Globalization;

namespace Spherelet.Crx.Containers;

/// <summary>Brings hot-plugged CPUs online: the kernel adds them offline, and a guest without udev has nobody else to do it.</summary>
internal static class CpuHotplug
{
    private const string Cpus = "/sys/devices/system/cpu";

    /// <summary>Onlines CPUs until <paramref name="count"/> are online, waiting up to <paramref name="patience"/> for hot-added ones to appear.</summary>
    public static async Task OnlineAsync(int count, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            foreach (var online in Directory.EnumerateFiles(Cpus, "online", new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 1 })
                .Where(f => IsCpuDirectory(Path.GetFileName(Path.GetDirectoryName(f))!)))
            {
                if (File.ReadAllText(online).Trim() == "0")
                {
                    try
                    {
                        await File.WriteAllTextAsync(online, "1");
                        Guest.CrxLog.Info($"cpu online {Path.GetFileName(Path.GetDirectoryName(online))}");
                    }
                    catch (IOException e)
                    {
                        Guest.CrxLog.Warn($"cpu online {online}: {e.Message}");
                    }
                }
            }

            if (OnlineCount() >= count || DateTime.UtcNow > deadline)
            {
                return;
            }

            await Task.Delay(50);
        }
    }

    private static bool IsCpuDirectory(string name) =>
        name.Length > 3 && name.StartsWith("cpu", StringComparison.Ordinal) && name[3..].All(char.IsAsciiDigit);

    /// <summary>The CPUs online now, from /sys/devices/system/cpu/online ("0-3,5").</summary>
    private static int OnlineCount()
    {
        var count = 0;
        foreach (var range in File.ReadAllText(Path.Combine(Cpus, "online")).Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var bounds = range.Split('-');
            var first = int.Parse(bounds[0], CultureInfo.InvariantCulture);
            count += bounds.Length == 2 ? int.Parse(bounds[1], CultureInfo.InvariantCulture) - first + 1 : 1;
        }

        return count;
    }
}
