using Spherelet.Agent.Virtualization;
using Spherelet.Libvirt.Vmm;
using Spherelet.Domain.Health;
using Spherelet.Libvirt;

namespace Spherelet.Agent.Checks;

/// <summary>libvirtd answers on the configured URI and names its QEMU.</summary>
public sealed class LibvirtCheck : IHostCheck
{
    private readonly LibvirtConnector _connector;

    public LibvirtCheck(LibvirtConnector connector)
    {
        _connector = connector;
    }

    public string Name => "libvirt";

    public HealthArea Area => HealthArea.Runtime;

    public async Task<HostCheckResult> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var (daemon, hypervisor) = await _connector.UseAsync(
                c => (c.DaemonLibraryVersion(), c.HypervisorVersion()),
                cancellationToken);
            return HostCheckResult.Ok(Name, Area, $"libvirtd {daemon} at {_connector.Uri}, QEMU {hypervisor}");
        }
        catch (Exception e) when (e is LibvirtException or DllNotFoundException)
        {
            return HostCheckResult.Fail(
                Name,
                Area,
                "LibvirtUnreachable",
                $"cannot use libvirt at {_connector.Uri}: {e.Message}",
                "install and start libvirtd: scripts/setup (or apt-get install libvirt-daemon-system; systemctl start libvirtd)");
        }
    }
}
