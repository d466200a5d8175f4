namespace Spherelet.IntegrationTests.Sandboxes;

/// <summary>
/// The pod VMs a test's agent made, whatever their backend: libvirt domains (through virsh) and
/// microvm QEMUs (their records and processes). Tests that hold on either backend look through
/// here; scripts/test runs them with the default handler on each.
/// </summary>
public static class PodVms
{
    /// <summary>Destroys the libvirt domains of the agent on <paramref name="dir"/> and kills its microvm QEMUs, by pid.</summary>
    public static async Task RemoveAllAsync(TestDirectory dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        Microvms.KillLeftovers(dir.State);
        await Virsh.RemoveDomainsOfAgentAsync(dir.Root);
    }

    /// <summary>"running" or "shut off" as virsh says it (for a microvm: its QEMU runs, or its record stays without one), or null when the VM is gone.</summary>
    public static async Task<string?> StateAsync(TestDirectory dir, string vmName)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (File.Exists(MicrovmRecord(dir, vmName)))
        {
            return Microvms.QemuPid(vmName) is null ? "shut off" : "running";
        }

        return await Virsh.DomainStateAsync(vmName);
    }

    /// <summary>The names of the agent's pod VMs on either backend, running or not.</summary>
    public static async Task<IReadOnlyList<string>> OfAgentAsync(TestDirectory dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        var records = Path.Combine(dir.State, "microvm");
        var microvms = Directory.Exists(records)
            ? Directory.EnumerateFiles(records, "sph-*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>()
            : [];
        return [.. microvms, .. await Virsh.DomainsOfAgentAsync(dir.Root)];
    }

    /// <summary>Ends the VM from outside the agent, as an operator or a crash would: virsh destroy, or SIGKILL to the microvm's QEMU.</summary>
    public static async Task DestroyAsync(TestDirectory dir, string vmName)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (File.Exists(MicrovmRecord(dir, vmName)))
        {
            var pid = Microvms.QemuPid(vmName) ?? throw new InvalidOperationException($"no QEMU runs {vmName}");
            System.Diagnostics.Process.GetProcessById(pid).Kill();
            return;
        }

        var (code, output) = await Virsh.RunAsync("destroy", vmName);
        if (code != 0)
        {
            throw new InvalidOperationException($"virsh destroy {vmName}: {output}");
        }
    }

    private static string MicrovmRecord(TestDirectory dir, string vmName) => Path.Combine(dir.State, "microvm", vmName + ".json");
}
