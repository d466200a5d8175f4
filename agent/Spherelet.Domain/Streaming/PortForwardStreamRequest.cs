namespace Spherelet.Domain.Streaming;

/// <summary>TCP connections to ports inside a pod's VM (CRI PortForward); the client names the ports when none are given here.</summary>
public sealed record PortForwardStreamRequest(string SandboxId, IReadOnlyList<int> Ports) : StreamRequest;
