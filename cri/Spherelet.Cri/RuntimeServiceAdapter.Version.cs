using Grpc.Core;
using Runtime.V1;
using Spherelet.Domain.Runtime;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override Task<VersionResponse> Version(VersionRequest request, ServerCallContext context) =>
        Task.FromResult(new VersionResponse
        {
            Version = RuntimeIdentity.KubeletApiVersion,
            RuntimeName = RuntimeIdentity.Name,
            RuntimeVersion = RuntimeIdentity.Version,
            RuntimeApiVersion = RuntimeIdentity.CriApiVersion,
        });
}
