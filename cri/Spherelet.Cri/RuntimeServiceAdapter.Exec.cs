using Grpc.Core;
using Runtime.V1;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Streaming;

namespace Spherelet.Cri;

public sealed partial class RuntimeServiceAdapter
{
    /// <summary>A single-use URL on the streaming server for a new process in a running container.</summary>
    public override Task<ExecResponse> Exec(ExecRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Cmd.Count == 0 || request.Cmd[0].Length == 0)
        {
            throw new InvalidRequestException("Exec needs a command");
        }

        CheckStreams(request.Stdin, request.Stdout, request.Stderr, request.Tty);
        var container = _containers.StreamableContainer(request.ContainerId, "exec in");
        var url = _streaming.UrlFor(new ExecStreamRequest(container.Id, [.. request.Cmd], request.Tty, request.Stdin, request.Stdout, request.Stderr));
        return Task.FromResult(new ExecResponse { Url = url.ToString() });
    }

    /// <summary>One of stdin, stdout and stderr at least; a terminal merges stderr into stdout, so not both.</summary>
    private static void CheckStreams(bool stdin, bool stdout, bool stderr, bool tty)
    {
        if (!stdin && !stdout && !stderr)
        {
            throw new InvalidRequestException("one of stdin, stdout and stderr must be set");
        }

        if (tty && stderr)
        {
            throw new InvalidRequestException("tty and stderr cannot both be set: a terminal's stderr is its stdout");
        }
    }
}
