using Spherelet.Domain.Health;
using Spherelet.Domain.Node;

namespace Spherelet.Agent.Checks;

/// <summary>Hardware acceleration: KVM when it is usable (<see cref="HostVirtualization"/>), else QEMU's TCG emulation.</summary>
public sealed class KvmCheck : IHostCheck
{
    private readonly string _device;
    private readonly string _modules;

    public KvmCheck(string device = HostVirtualization.KvmDevice, string modules = "/sys/module")
    {
        _device = device;
        _modules = modules;
    }

    public string Name => "kvm";

    public HealthArea Area => HealthArea.Host;

    public Task<HostCheckResult> RunAsync(CancellationToken cancellationToken) =>
        Task.FromResult(HostVirtualization.KvmUsableWith(_device, _modules)
            ? HostCheckResult.Ok(Name, Area, $"{_device} present: pod VMs run with KVM")
            : HostCheckResult.Warn(
                Name,
                Area,
                $"{HostVirtualization.TcgReason(_device, _modules)}: pod VMs run under TCG emulation, about ten times slower",
                "enable virtualization (VT-x/AMD-V, or nested virtualization for a VM host) and load kvm_intel or kvm_amd"));
}
