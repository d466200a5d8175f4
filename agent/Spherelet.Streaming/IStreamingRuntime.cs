using Spherelet.Domain.Containers;
using Spherelet.Domain.Streaming;

namespace Spherelet.Streaming;

/// <summary>What the streaming server asks of the runtime once a URL is used.</summary>
public interface IStreamingRuntime
{
    /// <summary>Starts the exec'd process with its stdio attached to the session.</summary>
    Task<IInteractiveProcess> ExecAsync(ExecStreamRequest request, CancellationToken cancellationToken);

    /// <summary>Attaches the session to the container's main process.</summary>
    Task<IInteractiveProcess> AttachAsync(AttachStreamRequest request, CancellationToken cancellationToken);

    /// <summary>Connects to a TCP port inside the pod's VM.</summary>
    Task<Domain.Sandboxes.IPodPortConnection> OpenPortAsync(string sandboxId, int port, CancellationToken cancellationToken);
}
