using Runtime.V1;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri.Oci;

/// <summary>
/// CRI hugepage limits in the pod VM. The kubelet sends a limit for every page size the host
/// offers, 0 unless the container asked for hugepages of that size. The guest kernel has
/// hugetlbfs and the hugetlb cgroup controller for 2 MiB pages, so a 2 MiB limit is applied in
/// the guest; a zero limit of another size holds by itself (the VM has no such pages) and is left
/// out, since the guest's cgroup has no file for a size its CPU does not offer. A non-zero limit
/// would need hugepages in the VM, which a pod VM does not get yet: refused.
/// </summary>
public static class Hugepages
{
    /// <summary>The page size the guest always has (x86-64), as CRI and OCI spell it.</summary>
    public const string GuestPageSize = "2MB";

    /// <exception cref="PreconditionFailedException">A non-zero limit.</exception>
    public static IReadOnlyList<HugepageLimit> GuestLimits(IEnumerable<HugepageLimit> limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var result = new List<HugepageLimit>();
        foreach (var limit in limits)
        {
            if (limit.Limit != 0)
            {
                throw new PreconditionFailedException(
                    $"hugepages-{limit.PageSize} limit of {limit.Limit} bytes cannot be honoured: pod VMs do not get hugepages yet");
            }

            if (limit.PageSize == GuestPageSize)
            {
                result.Add(limit);
            }
        }

        return result;
    }
}
