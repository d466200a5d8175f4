using Microsoft.Extensions.Logging;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Events;
using Spherelet.Domain.Health;
using Spherelet.Domain.Node;
using Spherelet.Domain.Pods;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Streaming;
using Spherelet.Images;

namespace Spherelet.Cri;

/// <summary>
/// CRI RuntimeService. Each RPC lives in its own file (RuntimeServiceAdapter.&lt;Rpc&gt;.cs):
/// it validates the request, calls the domain and maps the answer. RPCs without a file
/// answer Unimplemented, with a message naming them (see <see cref="CriErrors"/>).
/// </summary>
public sealed partial class RuntimeServiceAdapter : Runtime.V1.RuntimeService.RuntimeServiceBase
{
    private readonly HostHealth _health;
    private readonly NodeConfig _nodeConfig;
    private readonly NodeFacts _nodeFacts;
    private readonly PodLifecycle _pods;
    private readonly PodEvents _events;
    private readonly SandboxService _sandboxes;
    private readonly ContainerService _containers;
    private readonly ImageManager _images;
    private readonly CpuRates _cpuRates;
    private readonly TimeProvider _time;
    private readonly IStreamingEndpoint _streaming;
    private readonly ILogger<RuntimeServiceAdapter> _logger;

    public RuntimeServiceAdapter(
        HostHealth health,
        NodeConfig nodeConfig,
        NodeFacts nodeFacts,
        PodLifecycle pods,
        PodEvents events,
        SandboxService sandboxes,
        ContainerService containers,
        ImageManager images,
        CpuRates cpuRates,
        TimeProvider time,
        IStreamingEndpoint streaming,
        ILogger<RuntimeServiceAdapter> logger)
    {
        _streaming = streaming;
        _health = health;
        _nodeConfig = nodeConfig;
        _nodeFacts = nodeFacts;
        _pods = pods;
        _events = events;
        _sandboxes = sandboxes;
        _containers = containers;
        _images = images;
        _cpuRates = cpuRates;
        _time = time;
        _logger = logger;
    }
}
