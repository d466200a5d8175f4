using Grpc.Core;
using Runtime.V1;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    /// <summary>Statistics of the READY pods that match (a stopped pod's VM has none).</summary>
    public override async Task<ListPodSandboxStatsResponse> ListPodSandboxStats(ListPodSandboxStatsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var filter = request.Filter is { } f
            ? new SandboxFilter(
                f.Id.Length > 0 ? f.Id : null,
                SandboxState.Ready,
                f.LabelSelector.Count > 0 ? new Dictionary<string, string>(f.LabelSelector, StringComparer.Ordinal) : null)
            : new SandboxFilter(null, SandboxState.Ready, null);
        var stats = await Task.WhenAll(_sandboxes.List(filter).Select(s => PodStatsOrNoneAsync(s, context.CancellationToken)));
        // Rates of pods and containers that are gone are forgotten.
        _cpuRates.Retain(_sandboxes.List(SandboxFilter.All).Select(s => s.Id)
            .Concat(_containers.List(Domain.Containers.ContainerFilter.All).Select(c => c.Id)).ToHashSet(StringComparer.Ordinal));
        var response = new ListPodSandboxStatsResponse();
        response.Stats.Add(stats.OfType<Runtime.V1.PodSandboxStats>());
        return response;
    }
}
