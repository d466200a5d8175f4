using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override async Task<PodSandboxStatusResponse> PodSandboxStatus(PodSandboxStatusRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var status = await _sandboxes.StatusAsync(request.PodSandboxId, context.CancellationToken);
        var now = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
        return SandboxMapping.ToStatusResponse(status, request.Verbose, now);
    }
}
