using Grpc.Core;
using Runtime.V1;
using Spherelet.Cri.Oci;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override async Task<UpdateContainerResourcesResponse> UpdateContainerResources(UpdateContainerResourcesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var resources = request.Linux ?? throw new InvalidRequestException("linux resources are required");
        var json = OciSpecBuilder.Resources(resources, privileged: false);
        // The device rules belong to the spec; an update changes only the limits.
        json.Remove("devices");
        await _containers.UpdateResourcesAsync(
            request.ContainerId, json.ToJsonString(), Domain.Containers.HostCpuset.Parse(resources.CpusetCpus, resources.CpusetMems), context.CancellationToken);
        return new UpdateContainerResourcesResponse();
    }
}
