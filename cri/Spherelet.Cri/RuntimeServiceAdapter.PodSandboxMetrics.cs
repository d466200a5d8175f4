using Grpc.Core;
using Runtime.V1;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    /// <summary>The metrics <see cref="ListPodSandboxMetrics"/> returns (<see cref="PodMetricsMapping"/>); the list never changes.</summary>
    public override Task<ListMetricDescriptorsResponse> ListMetricDescriptors(ListMetricDescriptorsRequest request, ServerCallContext context)
    {
        var response = new ListMetricDescriptorsResponse();
        response.Descriptors.Add(PodMetricsMapping.Descriptors);
        return Task.FromResult(response);
    }

    /// <summary>
    /// cAdvisor-style metrics of every READY pod, read from inside its VM; a pod whose guest fails
    /// or is slow to answer is left out, as in the node's statistics.
    /// </summary>
    public override async Task<ListPodSandboxMetricsResponse> ListPodSandboxMetrics(ListPodSandboxMetricsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var sandboxes = _sandboxes.List(new SandboxFilter(null, SandboxState.Ready, null));
        var metrics = await Task.WhenAll(sandboxes.Select(async sandbox =>
            await _containers.PodUsageOrNoneAsync(sandbox.Id, [], context.CancellationToken) is { } usage
                ? PodMetricsMapping.ToMetrics(sandbox, usage, _containers.ContainersOf(sandbox.Id))
                : null));
        var response = new ListPodSandboxMetricsResponse();
        response.PodMetrics.Add(metrics.OfType<PodSandboxMetrics>());
        return response;
    }
}
