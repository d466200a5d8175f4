namespace Spherelet.Domain.Node;

/// <summary>Facts about this node that are read once at start and do not change while the agent runs.</summary>
/// <param name="CgroupDriver">The cgroup driver the host uses, which the kubelet must match.</param>
public sealed record NodeFacts(CgroupDriver CgroupDriver);
