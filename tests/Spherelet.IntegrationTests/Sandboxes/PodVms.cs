namespace Spherelet.IntegrationTests.Sandboxes;

/// <summary>Test cleanup of the pod VMs a test's agent left, whatever their backend: libvirt domains and microvm QEMUs.</summary>
public static class PodVms
{
    /// <summary>Destroys the libvirt domains of the agent on <paramref name="dir"/> and kills its microvm QEMUs, by pid.</summary>
    public static async Task RemoveAllAsync(TestDirectory dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        Microvms.KillLeftovers(dir.State);
        await Virsh.RemoveDomainsOfAgentAsync(dir.Root);
    }
}
