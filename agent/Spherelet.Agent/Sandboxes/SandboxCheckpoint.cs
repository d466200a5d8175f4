using Spherelet.Domain.Sandboxes;

namespace Spherelet.Agent.Sandboxes;

/// <summary>The file form of a sandbox: a version, then the sandbox.</summary>
public sealed record SandboxCheckpoint(int Version, PodSandbox Sandbox);
