using System.Text.RegularExpressions;
using Spherelet.Domain.Health;

namespace Spherelet.Agent.Checks;

/// <summary>
/// libvirt leaves cgroups to Spherelet (<c>cgroup_controllers = [ ]</c> in qemu.conf): pod VMs run
/// under the kubelet's pod cgroups, and a libvirt that manages cgroups itself moves hot-plugged vCPU
/// threads into its own (refused on cgroup v2, out of the pod's limits on v1).
/// </summary>
public sealed partial class LibvirtCgroupsCheck : IHostCheck
{
    private readonly string _qemuConf;

    public LibvirtCgroupsCheck(string qemuConf = QemuConf.DefaultPath)
    {
        _qemuConf = qemuConf;
    }

    public string Name => "libvirt-cgroups";

    public HealthArea Area => HealthArea.Runtime;

    public Task<HostCheckResult> RunAsync(CancellationToken cancellationToken)
    {
        var (text, unreadable) = QemuConf.Read(_qemuConf, Name, Area);
        if (text is null)
        {
            return Task.FromResult(unreadable!);
        }

        return Task.FromResult(
            Empty().IsMatch(text)
                ? HostCheckResult.Ok(Name, Area, $"libvirt leaves cgroups to Spherelet (cgroup_controllers = [ ] in {_qemuConf})")
                : Warned($"libvirt manages cgroups ({_qemuConf} has no 'cgroup_controllers = [ ]'): vCPU hot-plug fails on cgroup v2 and escapes the pod's cgroup on v1"));
    }

    private HostCheckResult Warned(string detail) =>
        HostCheckResult.Warn(Name, Area, detail, $"set 'cgroup_controllers = [ ]' in {_qemuConf} and restart libvirtd (scripts/setup does)");

    [GeneratedRegex(@"^\s*cgroup_controllers\s*=\s*\[\s*\]\s*$", RegexOptions.Multiline)]
    private static partial Regex Empty();
}
