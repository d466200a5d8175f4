using Grpc.Core;
using Runtime.V1;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override async Task<PodSandboxStatsResponse> PodSandboxStats(PodSandboxStatsRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var sandbox = _sandboxes.Get(request.PodSandboxId);
        var containers = _containers.List(new Domain.Containers.ContainerFilter(null, sandbox.Id, null, null));
        var usage = await _containers.PodUsageAsync(sandbox.Id, [], context.CancellationToken);
        var stats = (usage is null ? null : ContainerMapping.ToPodStats(sandbox, usage, containers, _cpuRates))
            ?? throw new PreconditionFailedException($"pod sandbox {sandbox.Id} has no statistics: its VM is not running");
        return new PodSandboxStatsResponse { Stats = stats };
    }

    /// <summary>The pod VM's usage and its running containers' for node-wide statistics; null when the VM is not running or its guest fails or is slow to answer.</summary>
    private async Task<Runtime.V1.PodSandboxStats?> PodStatsOrNoneAsync(Domain.Sandboxes.PodSandbox sandbox, CancellationToken cancellationToken)
    {
        var containers = _containers.List(new Domain.Containers.ContainerFilter(null, sandbox.Id, null, null));
        var usage = await _containers.PodUsageOrNoneAsync(sandbox.Id, [], cancellationToken);
        return usage is null ? null : ContainerMapping.ToPodStats(sandbox, usage, containers, _cpuRates);
    }
}
