using System.Globalization;
using Spherelet.Domain.Errors;

namespace Spherelet.Domain.Containers;

/// <summary>
/// The host CPUs and memory nodes a container may use (CRI <c>cpuset_cpus</c>, <c>cpuset_mems</c>, set by
/// the kubelet's CPU and memory managers). They are host numbers, meaningless inside the pod VM, so
/// they bind the VM: its QEMU runs on the union of its containers' sets (the VM's cgroup on the host).
/// </summary>
/// <param name="Cpus">A cpuset list (<c>0-3,6</c>), empty for any.</param>
/// <param name="Mems">A cpuset list of memory nodes, empty for any.</param>
public sealed record HostCpuset(string Cpus, string Mems)
{
    public static readonly HostCpuset Any = new(string.Empty, string.Empty);

    public bool IsAny => Cpus.Length == 0 && Mems.Length == 0;

    /// <exception cref="InvalidRequestException">A list that is not a cpuset list.</exception>
    public static HostCpuset Parse(string cpus, string mems) =>
        new(Format(ParseList("cpuset_cpus", cpus)), Format(ParseList("cpuset_mems", mems)));

    /// <summary>
    /// What a VM running every one of <paramref name="sets"/> may use: the union of each kind, or any
    /// when one of them allows any (an empty set of a container means no restriction).
    /// </summary>
    public static HostCpuset Union(IEnumerable<HostCpuset> sets)
    {
        ArgumentNullException.ThrowIfNull(sets);
        var all = sets.ToList();
        string Join(Func<HostCpuset, string> pick) =>
            all.Count == 0 || all.Any(s => pick(s).Length == 0)
                ? string.Empty
                : Format(all.SelectMany(s => ParseList("cpuset", pick(s))));
        return new HostCpuset(Join(s => s.Cpus), Join(s => s.Mems));
    }

    /// <summary>The numbers of a cpuset list.</summary>
    /// <exception cref="InvalidRequestException">Not a list of numbers and ranges.</exception>
    public static SortedSet<int> ParseList(string field, string list)
    {
        ArgumentNullException.ThrowIfNull(list);
        var result = new SortedSet<int>();
        if (list.Trim().Length == 0)
        {
            return result;
        }

        foreach (var part in list.Split(','))
        {
            var bounds = part.Trim().Split('-');
            if (bounds.Length is < 1 or > 2
                || !int.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                || !int.TryParse(bounds[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
                || last < first || last > 8191)
            {
                throw new InvalidRequestException($"{field} '{list}' is not a cpuset list such as 0-3,6");
            }

            for (var n = first; n <= last; n++)
            {
                result.Add(n);
            }
        }

        return result;
    }

    /// <summary>Numbers as a cpuset list with ranges (<c>0-3,6</c>).</summary>
    public static string Format(IEnumerable<int> numbers)
    {
        ArgumentNullException.ThrowIfNull(numbers);
        var sorted = numbers.Distinct().Order().ToList();
        var parts = new List<string>();
        for (var i = 0; i < sorted.Count;)
        {
            var j = i;
            while (j + 1 < sorted.Count && sorted[j + 1] == sorted[j] + 1)
            {
                j++;
            }

            parts.Add(i == j ? sorted[i].ToString(CultureInfo.InvariantCulture) : $"{sorted[i]}-{sorted[j]}");
            i = j + 1;
        }

        return string.Join(',', parts);
    }
}
