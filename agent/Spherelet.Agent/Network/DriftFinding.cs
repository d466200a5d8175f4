namespace Spherelet.Agent.Network;

/// <summary>One way the switch or the host's rules differ from what the allocations say.</summary>
/// <param name="Vlan">The segment it concerns, or null for the bridge or a pod's port.</param>
/// <param name="SandboxId">The pod whose NIC is off the bridge, or null.</param>
/// <param name="What">What is wrong, for the log.</param>
public sealed record DriftFinding(int? Vlan, string? SandboxId, string What)
{
    /// <summary>What the finding concerns, for metrics: <c>pod_port</c>, <c>segment</c> or <c>node</c> (the bridge, forwarding).</summary>
    public string Scope => SandboxId is not null ? "pod_port" : Vlan is not null ? "segment" : "node";
}
