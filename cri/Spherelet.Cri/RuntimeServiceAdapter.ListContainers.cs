using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override Task<ListContainersResponse> ListContainers(ListContainersRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new ListContainersResponse();
        response.Containers.Add(_containers.List(ContainerMapping.ToFilter(request.Filter)).Select(ContainerMapping.ToListItem));
        return Task.FromResult(response);
    }
}
