namespace Spherelet.Domain.Sandboxes;

/// <summary>A named VM profile: what a pod of this runtime handler gets at least.</summary>
public sealed record RuntimeHandler(string Name, int VirtualCpus, int MemoryMiB, string KernelPath, string InitramfsPath);
