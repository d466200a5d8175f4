using Grpc.Core;
using Runtime.V1;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Streaming;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    /// <summary>A single-use URL on the streaming server for TCP connections to ports inside a ready pod's VM.</summary>
    public override Task<PortForwardResponse> PortForward(PortForwardRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var bad = request.Port.Where(p => p is < 1 or > 65535).ToList();
        if (bad.Count > 0)
        {
            throw new InvalidRequestException($"ports {string.Join(", ", bad)} are not 1 to 65535");
        }

        var sandbox = _sandboxes.GetReady(request.PodSandboxId);
        var url = _streaming.UrlFor(new PortForwardStreamRequest(sandbox.Id, [.. request.Port]));
        return Task.FromResult(new PortForwardResponse { Url = url.ToString() });
    }
}
