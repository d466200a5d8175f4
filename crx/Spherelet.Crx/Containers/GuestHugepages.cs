using System.Globalization;
using System.Text.Json.Nodes;
using Spherelet.Crx.Protocol;

namespace Spherelet.Crx.Containers;

/// <summary>
/// The pod's 2 MiB hugepages: the spec says how many the pod needs in all (annotation
/// <c>io.spherelet.hugepages-2MB</c>); the host plugs memory backed by its own hugepages into the
/// VM for them (virtio-mem, onlined as movable, where the kernel takes hugepages from first), and
/// CRX raises the VM's hugepage pool to that number before the container is created. The pool
/// never shrinks; the container's own limit is its hugetlb cgroup's.
/// </summary>
internal static class GuestHugepages
{
    /// <exception cref="CrxRequestException">A malformed count, or too few pages within <paramref name="wait"/>.</exception>
    public static async Task EnsureAsync(JsonObject spec, string pool, TimeSpan wait)
    {
        if (spec["annotations"]?[SpecAnnotations.Hugepages2MB] is not JsonValue value)
        {
            return;
        }

        if (!long.TryParse(value.GetValue<string>(), NumberStyles.None, CultureInfo.InvariantCulture, out var wanted) || wanted <= 0)
        {
            throw new CrxRequestException(CrxProtocol.Codes.InvalidArgument, $"annotation {SpecAnnotations.Hugepages2MB}: '{value}' is not a number of pages");
        }

        var file = Path.Combine(pool, "nr_hugepages");
        var deadline = DateTime.UtcNow + wait;
        while (true)
        {
            var have = Read(file);
            if (have >= wanted)
            {
                return;
            }

            // The memory for them is plugged as the guest takes it: ask again until it is all there.
            try
            {
                await File.WriteAllTextAsync(file, wanted.ToString(CultureInfo.InvariantCulture));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not enough memory yet (or no pool to write to: the deadline says so).
            }

            if (Read(file) >= wanted)
            {
                return;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new CrxRequestException(
                    CrxProtocol.Codes.FailedPrecondition,
                    $"the VM made {Read(file)} of the {wanted} 2 MiB hugepages the pod needs within {wait.TotalSeconds:0} s");
            }

            await Task.Delay(200);
        }
    }

    private static long Read(string file)
    {
        try
        {
            return long.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }
}
