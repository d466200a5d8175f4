using Grpc.Core;
using Runtime.V1;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Streaming;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    /// <summary>A single-use URL on the streaming server for the running container's main process.</summary>
    public override Task<AttachResponse> Attach(AttachRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        CheckStreams(request.Stdin, request.Stdout, request.Stderr, request.Tty);
        var container = _containers.StreamableContainer(request.ContainerId, "attach to");
        if (request.Stdin && !container.Stdin)
        {
            throw new InvalidRequestException($"container {container.Id} was not created with stdin: it has none to attach to");
        }

        if (request.Tty != container.Tty)
        {
            throw new InvalidRequestException($"container {container.Id} {(container.Tty ? "runs" : "does not run")} on a terminal: attach with tty={container.Tty.ToString().ToLowerInvariant()}");
        }

        var url = _streaming.UrlFor(new AttachStreamRequest(container.Id, container.Tty, request.Stdin, request.Stdout, request.Stderr && !container.Tty));
        return Task.FromResult(new AttachResponse { Url = url.ToString() });
    }
}
