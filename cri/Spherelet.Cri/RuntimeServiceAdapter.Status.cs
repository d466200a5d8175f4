using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override async Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var report = await _health.CheckAsync(context.CancellationToken);
        var network = await _nodeConfig.GetAsync(context.CancellationToken);
        var response = StatusMapping.ToStatusResponse(report, network, request.Verbose, _sandboxes.Handlers.All.Select(h => h.Name).Order(StringComparer.Ordinal));
        if (request.Verbose)
        {
            response.Info.Add("streaming", StatusMapping.StreamingInfo(_streaming.Status()));
        }

        return response;
    }
}
