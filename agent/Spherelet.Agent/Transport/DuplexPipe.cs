using System.IO.Pipelines;

namespace Spherelet.Agent.Transport;

/// <summary>A reader and a writer taken together as a connection's transport.</summary>
internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
