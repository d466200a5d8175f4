using Grpc.Core;
using Microsoft.Extensions.Logging;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override async Task<UpdateRuntimeConfigResponse> UpdateRuntimeConfig(
        UpdateRuntimeConfigRequest request,
        ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var podCidr = request.RuntimeConfig?.NetworkConfig?.PodCidr ?? string.Empty;
        if (await _nodeConfig.UpdatePodCidrAsync(podCidr, context.CancellationToken))
        {
            LogPodCidrStored(podCidr);
        }

        return new UpdateRuntimeConfigResponse();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "pod cidr stored podCidr={PodCidr}")]
    private partial void LogPodCidrStored(string podCidr);
}
