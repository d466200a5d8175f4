using Google.Protobuf;
using Grpc.Core;
using Runtime.V1;
using Spherelet.Domain.Errors;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override async Task<ExecSyncResponse> ExecSync(ExecSyncRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        if (request.Timeout < 0)
        {
            throw new InvalidRequestException($"timeout {request.Timeout} must not be negative");
        }

        // A timeout of 0 means none.
        var timeout = request.Timeout > 0 ? TimeSpan.FromSeconds(request.Timeout) : Timeout.InfiniteTimeSpan;
        var result = await _containers.ExecSyncAsync(request.ContainerId, [.. request.Cmd], timeout, context.CancellationToken);
        return new ExecSyncResponse
        {
            Stdout = ByteString.CopyFrom(result.Stdout),
            Stderr = ByteString.CopyFrom(result.Stderr),
            ExitCode = result.ExitCode,
        };
    }
}
