using Grpc.Core;
using Runtime.V1;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override async Task<ContainerStatsResponse> ContainerStats(ContainerStatsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var container = _containers.Get(request.ContainerId);
        var usage = await _containers.PodUsageAsync(container.SandboxId, [container.Id], context.CancellationToken);
        if (usage is null || !usage.Containers.TryGetValue(container.Id, out var containerUsage))
        {
            throw new PreconditionFailedException($"container {container.Id} has no statistics: its pod VM is not running");
        }

        return new ContainerStatsResponse { Stats = ContainerMapping.ToStats(container, containerUsage, _cpuRates) };
    }
}
