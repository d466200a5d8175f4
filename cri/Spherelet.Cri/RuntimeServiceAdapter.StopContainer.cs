using Grpc.Core;
using Runtime.V1;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override async Task<StopContainerResponse> StopContainer(StopContainerRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (request.Timeout < 0)
        {
            throw new InvalidRequestException($"timeout {request.Timeout} must not be negative");
        }

        await _containers.StopAsync(request.ContainerId, TimeSpan.FromSeconds(request.Timeout), context.CancellationToken);
        return new StopContainerResponse();
    }
}
