namespace Spherelet.Domain.Vmm;

/// <summary>A VM stopped. <paramref name="Reason"/> is the VMM's word for why ("destroyed", "shutdown", "crashed", ...).</summary>
public sealed record VmStopped(string Name, string Reason);
