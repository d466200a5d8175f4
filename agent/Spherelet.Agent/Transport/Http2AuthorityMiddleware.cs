using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Spherelet.Agent.Transport;

/// <summary>
/// Kestrel connection middleware for the CRI socket: feeds what the client sends through
/// <see cref="Http2AuthorityFrameRewriter"/> before Kestrel's HTTP/2 layer parses it, so
/// that Go gRPC clients (kubelet, crictl, critest), which send the socket path as
/// <c>:authority</c>, are served instead of reset.
/// </summary>
internal static class Http2AuthorityMiddleware
{
    public static ConnectionDelegate Wrap(ConnectionDelegate next) => async context =>
    {
        var original = context.Transport;
        var rewritten = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var pump = PumpAsync(original.Input, rewritten.Writer);
        context.Transport = new DuplexPipe(rewritten.Reader, original.Output);
        try
        {
            await next(context);
        }
        finally
        {
            context.Transport = original;
            await rewritten.Reader.CompleteAsync();
            original.Input.CancelPendingRead();
            await pump;
        }
    };

    private static async Task PumpAsync(PipeReader input, PipeWriter output)
    {
        var rewriter = new Http2AuthorityFrameRewriter();
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;
                var consumed = rewriter.Process(buffer, output);
                input.AdvanceTo(buffer.GetPosition(consumed), buffer.End);
                var flush = await output.FlushAsync();
                if (flush.IsCompleted || result.IsCompleted)
                {
                    break;
                }
            }
        }
#pragma warning disable CA1031 // Whatever broke the connection is handed to Kestrel's reader, which reports it.
        catch (Exception e)
#pragma warning restore CA1031
        {
            error = e;
        }
        finally
        {
            await output.CompleteAsync(error);
        }
    }
}
