using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override Task<ContainerStatusResponse> ContainerStatus(ContainerStatusRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var container = _containers.Get(request.ContainerId);
        var response = new ContainerStatusResponse { Status = ContainerMapping.ToStatus(container) };
        if (request.Verbose)
        {
            var vmName = _sandboxes.Find(container.SandboxId)?.VmName ?? string.Empty;
            response.Info["info"] = ContainerMapping.VerboseInfo(container, vmName);
        }

        return Task.FromResult(response);
    }
}
