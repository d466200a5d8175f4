using Spherelet.Domain.Errors;

namespace Spherelet.Domain.Vmm;

/// <summary>The guest a VM boots, checked by every backend before it makes anything of the VM.</summary>
public static class GuestFiles
{
    /// <exception cref="PreconditionFailedException">The spec's kernel or initramfs does not exist, with the fix.</exception>
    public static void EnsureExist(VmSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        foreach (var (what, path) in new[] { ("guest kernel", spec.KernelPath), ("guest initramfs", spec.InitramfsPath) })
        {
            if (!File.Exists(path))
            {
                throw new PreconditionFailedException($"the {what} {path} does not exist: build and install the guest with scripts/setup");
            }
        }
    }
}
