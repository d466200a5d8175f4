namespace Spherelet.Domain.Node;

/// <summary>The cgroup driver the kubelet must use on this node.</summary>
public enum CgroupDriver
{
    Systemd,
    Cgroupfs,
}
