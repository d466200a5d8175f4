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
        var stats = PodStats(sandbox, await _containers.PodUsageAsync(sandbox.Id, [], context.CancellationToken))
            ?? throw new PreconditionFailedException($"pod sandbox {sandbox.Id} has no statistics: its VM is not running");
        return new PodSandboxStatsResponse { Stats = stats };
    }

    /// <summary>The pod VM's usage and its running containers' for node-wide statistics; null when the VM is not running or its guest fails or is slow to answer.</summary>
    private async Task<Runtime.V1.PodSandboxStats?> PodStatsOrNoneAsync(Domain.Sandboxes.PodSandbox sandbox, CancellationToken cancellationToken) =>
        PodStats(sandbox, await _containers.PodUsageOrNoneAsync(sandbox.Id, [], cancellationToken));

    /// <summary>The pod's statistics from its VM's <paramref name="usage"/>; null without one.</summary>
    private Runtime.V1.PodSandboxStats? PodStats(Domain.Sandboxes.PodSandbox sandbox, Domain.Containers.PodUsage? usage) =>
        usage is null
            ? null
            : ContainerMapping.ToPodStats(sandbox, usage, _containers.List(new Domain.Containers.ContainerFilter(null, sandbox.Id, null, null)), _cpuRates);
}
