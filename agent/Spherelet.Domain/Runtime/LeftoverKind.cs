namespace Spherelet.Domain.Runtime;

/// <summary>What a recovery found left over from before and removed.</summary>
public enum LeftoverKind
{
    /// <summary>A VM of this agent that no sandbox owns.</summary>
    Vm,

    /// <summary>A pod directory (share, disks) of no sandbox.</summary>
    PodDirectory,

    /// <summary>A VM run directory of no sandbox.</summary>
    VmDirectory,

    /// <summary>A container checkpoint whose sandbox is gone.</summary>
    ContainerRecord,

    /// <summary>A pod's network (lease, port, host port rules) whose sandbox is gone.</summary>
    PodNetwork,

    /// <summary>A pod's switch port of no sandbox.</summary>
    SwitchPort,

    /// <summary>Port security flows of no pod.</summary>
    PortSecurityFlows,

    /// <summary>A namespace segment (gateway, egress rules, isolation flows) no allocation holds.</summary>
    Segment,
}
