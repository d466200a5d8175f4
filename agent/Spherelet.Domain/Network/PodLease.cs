using System.Net;

namespace Spherelet.Domain.Network;

/// <summary>A pod sandbox's place on its namespace's segment: its address and its NIC's MAC.</summary>
public sealed record PodLease(string SandboxId, string Namespace, IPAddress Address, string Mac);
