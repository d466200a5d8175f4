using Spherelet.Domain.Node;

namespace Spherelet.Domain.Sandboxes;

/// <summary>How pod VMs are started and stopped.</summary>
public sealed record SandboxServiceOptions
{
    /// <summary>The virtio-serial port name CRX opens (the protocol's channel name).</summary>
    public required string ChannelName { get; init; }

    /// <summary>Appended to every pod VM's kernel command line (for example <c>spherelet.log=debug</c>).</summary>
    public string ExtraKernelArguments { get; init; } = string.Empty;

    /// <summary>How the kubelet names cgroups on this node (cgroup_parent is checked against it).</summary>
    public CgroupDriver CgroupDriver { get; init; } = CgroupDriver.Cgroupfs;

    /// <summary>How long StopPodSandbox waits for the guest to power off before the VM is stopped hard.</summary>
    public TimeSpan ShutdownGrace { get; init; } = TimeSpan.FromSeconds(5);
}
