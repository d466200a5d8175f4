using System.Text.Json;
using Runtime.V1;
using Spherelet.Domain.Health;
using Spherelet.Domain.Node;
using CriCgroupDriver = Runtime.V1.CgroupDriver;
using DomainCgroupDriver = Spherelet.Domain.Node.CgroupDriver;
using Spherelet.Domain.Runtime;

namespace Spherelet.Cri;

/// <summary>Pure mappings between the domain's health and node facts and their CRI messages.</summary>
public static class StatusMapping
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="runtimeHandlers">The configured handler names; the default one is also listed with an empty name, as the kubelet asks for it.</param>
    /// <summary>The streaming server for the verbose Status: its URL, open sessions (by kind: open and started in all), URLs handed out but not used.</summary>
    public static string StreamingInfo(Spherelet.Domain.Streaming.StreamingStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return JsonSerializer.Serialize(
            new Dictionary<string, object?>
            {
                ["url"] = status.BaseUrl?.ToString(),
                ["openSessions"] = status.OpenSessions,
                ["sessions"] = status.Sessions.ToDictionary(s => s.Key, s => new Dictionary<string, long> { ["open"] = s.Value.Open, ["total"] = s.Value.Total }),
                ["pendingUrls"] = status.PendingUrls,
            },
            Json);
    }

    public static StatusResponse ToStatusResponse(HostHealthReport report, NodeNetworkConfig network, bool verbose, IEnumerable<string> runtimeHandlers)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(runtimeHandlers);
        var status = new RuntimeStatus();
        foreach (var condition in report.Conditions())
        {
            status.Conditions.Add(new RuntimeCondition
            {
                Type = condition.Type,
                Status = condition.Status,
                Reason = condition.Reason,
                Message = condition.Message,
            });
        }

        // SupplementalGroupsPolicy: Merge and Strict are both honoured (ImageUsers), and the
        // effective groups are in ContainerStatus.user.
        var response = new StatusResponse { Status = status, Features = new RuntimeFeatures { SupplementalGroupsPolicy = true } };
        foreach (var handler in runtimeHandlers.Prepend(string.Empty).Distinct(StringComparer.Ordinal))
        {
            // Recursive read-only mounts: the host bind in the pod share is made read-only with
            // every mount under it (mount_setattr), and the guest sees it as one read-only mount.
            // User namespaces: each container of a pod with hostUsers: false runs in a user
            // namespace with the pod's mappings, made by crun in the pod VM.
            response.RuntimeHandlers.Add(new RuntimeHandler { Name = handler, Features = new RuntimeHandlerFeatures { RecursiveReadOnlyMounts = true, UserNamespaces = true } });
        }
        if (verbose)
        {
            response.Info.Add("runtime", JsonSerializer.Serialize(
                new Dictionary<string, string>
                {
                    ["name"] = RuntimeIdentity.Name,
                    ["version"] = RuntimeIdentity.Version,
                    ["podCIDR"] = network.PodCidrText,
                    ["checkedAt"] = report.TakenAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                },
                Json));
            response.Info.Add("checks", JsonSerializer.Serialize(
                report.Results.Select(r => new Dictionary<string, string>
                {
                    ["name"] = r.Name,
                    ["area"] = r.Area.ToString(),
                    ["outcome"] = r.Outcome.ToString(),
                    ["detail"] = r.Detail,
                    ["fix"] = r.Fix,
                }),
                Json));
        }

        return response;
    }

    public static CriCgroupDriver ToCri(DomainCgroupDriver driver) => driver switch
    {
        DomainCgroupDriver.Systemd => CriCgroupDriver.Systemd,
        DomainCgroupDriver.Cgroupfs => CriCgroupDriver.Cgroupfs,
        _ => throw new ArgumentOutOfRangeException(nameof(driver), driver, "unknown cgroup driver"),
    };
}
