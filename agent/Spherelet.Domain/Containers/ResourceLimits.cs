using System.Text.Json.Nodes;

namespace Spherelet.Domain.Containers;

/// <summary>The CPU and memory limits of an OCI <c>linux.resources</c> object (0 where it sets none).</summary>
/// <param name="CpuMillis">The CPU limit in millicores: quota over period.</param>
public sealed record ResourceLimits(long CpuMillis, long MemoryBytes)
{
    public static ResourceLimits FromOci(string resourcesJson)
    {
        ArgumentNullException.ThrowIfNull(resourcesJson);
        var resources = JsonNode.Parse(resourcesJson) as JsonObject;
        var quota = Number(resources?["cpu"]?["quota"]);
        var period = Number(resources?["cpu"]?["period"]);
        var cpuMillis = quota > 0 ? quota * 1000 / (period > 0 ? period : 100_000) : 0;
        return new ResourceLimits(cpuMillis, Math.Max(0, Number(resources?["memory"]?["limit"])));
    }

    private static long Number(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<long>(out var number) ? number : 0;
}
