using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    public override Task<RuntimeConfigResponse> RuntimeConfig(RuntimeConfigRequest request, ServerCallContext context) =>
        Task.FromResult(new RuntimeConfigResponse
        {
            Linux = new LinuxRuntimeConfiguration { CgroupDriver = StatusMapping.ToCri(_nodeFacts.CgroupDriver) },
        });
}
