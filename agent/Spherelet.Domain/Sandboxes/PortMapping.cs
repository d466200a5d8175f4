namespace Spherelet.Domain.Sandboxes;

/// <summary>A host port forwarded to the pod (PodSandboxConfig.port_mappings).</summary>
/// <param name="Protocol"><c>tcp</c>, <c>udp</c> or <c>sctp</c>.</param>
/// <param name="HostIp">The host address it is bound to; empty for every address of the host.</param>
public sealed record PortMapping(string Protocol, int ContainerPort, int HostPort, string HostIp);
