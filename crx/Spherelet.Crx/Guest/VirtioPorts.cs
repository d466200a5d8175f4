namespace Spherelet.Crx.Guest;

/// <summary>Finds a virtio-serial port by its name (there is no udev to make /dev/virtio-ports links).</summary>
internal static class VirtioPorts
{
    public static async Task<string> FindAsync(string name, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Directory.Exists("/sys/class/virtio-ports"))
            {
                foreach (var port in Directory.EnumerateDirectories("/sys/class/virtio-ports"))
                {
                    var nameFile = Path.Combine(port, "name");
                    if (File.Exists(nameFile) && File.ReadAllText(nameFile).Trim() == name)
                    {
                        var device = "/dev/" + Path.GetFileName(port);
                        if (File.Exists(device))
                        {
                            return device;
                        }
                    }
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new IOException($"no virtio-serial port named {name} appeared within {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(10);
        }
    }
}
