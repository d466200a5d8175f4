using Spherelet.Domain.Containers;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Streaming;
using Spherelet.Streaming;

namespace Spherelet.Agent.Streaming;

/// <summary>The streaming server's sessions run by the container service.</summary>
public sealed class ContainerStreamingRuntime : IStreamingRuntime
{
    private readonly ContainerService _containers;
    private readonly SandboxService _sandboxes;

    public ContainerStreamingRuntime(ContainerService containers, SandboxService sandboxes)
    {
        _containers = containers;
        _sandboxes = sandboxes;
    }

    public Task<IPodPortConnection> OpenPortAsync(string sandboxId, int port, CancellationToken cancellationToken) =>
        _sandboxes.OpenPortAsync(sandboxId, port, cancellationToken);

    public Task<IInteractiveProcess> ExecAsync(ExecStreamRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _containers.ExecAsync(request.ContainerId, request.Command, request.Tty, request.Stdin, cancellationToken);
    }

    public Task<IInteractiveProcess> AttachAsync(AttachStreamRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _containers.AttachAsync(request.ContainerId, cancellationToken);
    }
}
