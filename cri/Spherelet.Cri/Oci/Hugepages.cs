using Runtime.V1;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri.Oci;

/// <summary>
/// CRI hugepage limits in the pod VM. The kubelet sends a limit for every page size the host
/// offers, 0 unless the container asked for hugepages of that size. The guest kernel has
/// hugetlbfs and the hugetlb cgroup controller for 2 MiB pages, so a 2 MiB limit is applied in
/// the guest (the pod VM is given memory backed by host hugepages to make them of, see
/// ContainerService); a zero limit of another size holds by itself (the VM has no such pages) and
/// is left out, since the guest's cgroup has no file for a size its CPU may not offer. A non-zero
/// limit of another size is refused.
/// </summary>
public static class Hugepages
{
    /// <summary>The page size pod VMs get hugepages of, as CRI and OCI spell it.</summary>
    public const string GuestPageSize = "2MB";

    /// <exception cref="PreconditionFailedException">A non-zero limit of a size other than 2 MiB.</exception>
    public static IReadOnlyList<HugepageLimit> GuestLimits(IEnumerable<HugepageLimit> limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var result = new List<HugepageLimit>();
        foreach (var limit in limits)
        {
            if (limit.PageSize == GuestPageSize)
            {
                result.Add(limit);
            }
            else if (limit.Limit != 0)
            {
                throw new PreconditionFailedException(
                    $"hugepages-{limit.PageSize} limit of {limit.Limit} bytes cannot be honoured: pod VMs get 2 MiB hugepages only");
            }
        }

        return result;
    }

    /// <summary>A container's limit on 2 MiB hugepages in bytes (0 for none).</summary>
    public static long Limit2MB(LinuxContainerResources? resources) =>
        (long)(resources?.HugepageLimits.Where(h => h.PageSize == GuestPageSize).Select(h => h.Limit).DefaultIfEmpty(0UL).Max() ?? 0);
}
