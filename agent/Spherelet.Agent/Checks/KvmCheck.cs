using Spherelet.Domain.Health;

namespace Spherelet.Agent.Checks;

/// <summary>Hardware acceleration: KVM when /dev/kvm exists, else QEMU's TCG emulation.</summary>
public sealed class KvmCheck : IHostCheck
{
    private readonly string _device;

    public KvmCheck(string device = "/dev/kvm")
    {
        _device = device;
    }

    public string Name => "kvm";

    public HealthArea Area => HealthArea.Host;

    public Task<HostCheckResult> RunAsync(CancellationToken cancellationToken) =>
        Task.FromResult(File.Exists(_device)
            ? HostCheckResult.Ok(Name, Area, $"{_device} present: pod VMs run with KVM")
            : HostCheckResult.Warn(
                Name,
                Area,
                $"no {_device}: pod VMs run under TCG emulation, about ten times slower",
                "enable virtualization (VT-x/AMD-V, or nested virtualization for a VM host) and load kvm_intel or kvm_amd"));
}
