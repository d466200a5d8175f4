using System.Text.Json.Nodes;

namespace Spherelet.Domain.Containers;

/// <summary>The CPU and memory limits of an OCI <c>linux.resources</c> object (0 where it sets none).</summary>
/// <param name="CpuMillis">The CPU limit in millicores: quota over period.</param>
/// <param name="Hugepages2MBBytes">The limit on 2 MiB hugepages in bytes (<c>hugepageLimits</c> of page size <c>2MB</c>).</param>
public sealed record ResourceLimits(long CpuMillis, long MemoryBytes, long Hugepages2MBBytes = 0)
{
    public static ResourceLimits FromOci(string resourcesJson)
    {
        ArgumentNullException.ThrowIfNull(resourcesJson);
        var resources = JsonNode.Parse(resourcesJson) as JsonObject;
        var quota = Number(resources?["cpu"]?["quota"]);
        var period = Number(resources?["cpu"]?["period"]);
        var cpuMillis = quota > 0 ? quota * 1000 / (period > 0 ? period : 100_000) : 0;
        var hugepages = (resources?["hugepageLimits"] as JsonArray)?.OfType<JsonObject>()
            .Where(h => h["pageSize"] is JsonValue size && size.TryGetValue<string>(out var name) && name == "2MB")
            .Sum(h => Number(h["limit"])) ?? 0;
        return new ResourceLimits(cpuMillis, Math.Max(0, Number(resources?["memory"]?["limit"])), Math.Max(0, hugepages));
    }

    private static long Number(JsonNode? node) =>
        node is not JsonValue value ? 0
        : value.TryGetValue<long>(out var number) ? number
        : value.TryGetValue<ulong>(out var unsigned) && unsigned <= long.MaxValue ? (long)unsigned
        : 0;
}
