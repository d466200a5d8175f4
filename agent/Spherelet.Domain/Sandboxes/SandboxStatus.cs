using Spherelet.Domain.Vmm;

namespace Spherelet.Domain.Sandboxes;

/// <summary>A sandbox and, when the VMM knows it, its VM as the VMM sees it now.</summary>
public sealed record SandboxStatus(PodSandbox Sandbox, VmStatus? Vm, string VmmName);
