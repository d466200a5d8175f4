using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override async Task<RunPodSandboxResponse> RunPodSandbox(RunPodSandboxRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var id = await _pods.RunAsync(SandboxMapping.ToCommand(request), context.CancellationToken);
        return new RunPodSandboxResponse { PodSandboxId = id };
    }
}
