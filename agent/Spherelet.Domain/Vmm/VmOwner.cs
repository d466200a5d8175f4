namespace Spherelet.Domain.Vmm;

/// <summary>The pod a VM belongs to, recorded in the VM's metadata so operators see whose VM it is.</summary>
public sealed record VmOwner(string SandboxId, string Namespace, string Name, string Uid, uint Attempt);
