namespace Spherelet.Agent.Network;

/// <summary>A segment in the allocations file.</summary>
public sealed record NetworkSegmentFile(string Namespace, int Vlan, string Subnet, string Gateway, uint NextHost, string? SubnetV6 = null, string? GatewayV6 = null);
