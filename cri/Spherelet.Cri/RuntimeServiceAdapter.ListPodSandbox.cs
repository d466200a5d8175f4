using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override Task<ListPodSandboxResponse> ListPodSandbox(ListPodSandboxRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new ListPodSandboxResponse();
        response.Items.AddRange(_sandboxes.List(SandboxMapping.ToFilter(request.Filter)).Select(SandboxMapping.ToListItem));
        return Task.FromResult(response);
    }
}
