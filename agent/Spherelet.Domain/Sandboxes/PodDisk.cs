using Spherelet.Domain.Vmm;

namespace Spherelet.Domain.Sandboxes;

/// <summary>A host block device the pod's VM holds, and the containers that use it (it is unplugged when the last one goes).</summary>
public sealed record PodDisk(VmDisk Disk, IReadOnlyList<string> Users);
