using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    /// <summary>Statistics of the containers that match, one guest call per pod; pods whose VM is not running, or whose guest fails or is slow to answer, have none.</summary>
    public override async Task<ListContainerStatsResponse> ListContainerStats(ListContainerStatsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var response = new ListContainerStatsResponse();
        var byPod = _containers.List(ContainerMapping.ToFilter(request.Filter)).GroupBy(c => c.SandboxId);
        var results = await Task.WhenAll(byPod.Select(async pod =>
        {
            var containers = pod.ToList();
            var usage = await _containers.PodUsageOrNoneAsync(pod.Key, containers.Select(c => c.Id).ToList(), context.CancellationToken);
            return usage is null
                ? []
                : containers.Where(c => usage.Containers.ContainsKey(c.Id)).Select(c => ContainerMapping.ToStats(c, usage.Containers[c.Id], _cpuRates)).ToList();
        }));
        response.Stats.Add(results.SelectMany(r => r));
        return response;
    }
}
