namespace Spherelet.IntegrationTests;

/// <summary>A temporary socket, root, state and config for one daemon, removed afterwards.</summary>
public sealed class TestDirectory : IDisposable
{
    public TestDirectory()
    {
        // Short: a Unix socket path must stay under 108 bytes.
        Path = Directory.CreateTempSubdirectory("sph-").FullName;
        GuestKernel = System.IO.Path.Combine(Path, "vmlinuz");
        GuestInitramfs = System.IO.Path.Combine(Path, "initramfs.img");
        File.WriteAllText(ConfigFile, "{}");
    }

    public string Path { get; }

    public string Socket => System.IO.Path.Combine(Path, "run", "spherelet.sock");

    public string Root => System.IO.Path.Combine(Path, "lib");

    public string State => System.IO.Path.Combine(Path, "run");

    /// <summary>The daemon's config file: empty unless a test writes it, so the host's /etc/spherelet is never read.</summary>
    public string ConfigFile => System.IO.Path.Combine(Path, "spherelet.json");

    public string GuestKernel { get; }

    public string GuestInitramfs { get; }

    /// <summary>Stand-in guest files: only their presence is checked before pod VMs exist.</summary>
    public Dictionary<string, string> WithGuestFiles(Dictionary<string, string>? environment = null)
    {
        File.WriteAllBytes(GuestKernel, new byte[4096]);
        File.WriteAllBytes(GuestInitramfs, new byte[4096]);
        environment ??= [];
        environment["SPHERELET__GUEST__KERNELPATH"] = GuestKernel;
        environment["SPHERELET__GUEST__INITRAMFSPATH"] = GuestInitramfs;
        return environment;
    }

    /// <summary>Unmounts what a daemon left mounted below the directory (its shared pods mount, a failed run's binds), then deletes it.</summary>
    public void Dispose()
    {
        Spherelet.Tests.Shared.MountCleanup.UnmountAllUnder(Path);
        Directory.Delete(Path, recursive: true);
    }
}
