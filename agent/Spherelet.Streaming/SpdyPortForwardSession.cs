using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Streaming;
using Spherelet.Streaming.Spdy;

namespace Spherelet.Streaming;

/// <summary>
/// Port forwarding over SPDY/3.1 (<c>portforward.k8s.io</c>) as the kubelet serves it: for each
/// connection the client opens two streams with the same <c>requestid</c> and <c>port</c>
/// headers, one of <c>streamtype</c> error and one of data. The data stream is relayed to a new
/// TCP connection to that port in the pod's VM; a connection that cannot be made is reported
/// as text on the error stream. The session lasts until the client closes it.
/// </summary>
public static partial class SpdyPortForwardSession
{
    public const string Protocol = "portforward.k8s.io";

    public static async Task RunAsync(SpdyConnection connection, PortForwardStreamRequest request, IStreamingRuntime runtime, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(request);
        var halves = new Dictionary<string, (SpdyStream? Error, SpdyStream? Data)>(StringComparer.Ordinal);
        var relays = new List<Task>();
        try
        {
            while (await connection.AcceptStreamAsync(cancellationToken) is { } stream)
            {
                await stream.ReplyAsync(cancellationToken: cancellationToken);
                var requestId = stream.Headers["requestid"] ?? string.Empty;
                var pair = halves.GetValueOrDefault(requestId);
                pair = stream.Headers["streamtype"] == "error" ? pair with { Error = stream } : pair with { Data = stream };
                if (pair is { Error: { } error, Data: { } data })
                {
                    halves.Remove(requestId);
                    relays.Add(ForwardAsync(error, data, request, runtime, logger, cancellationToken));
                }
                else
                {
                    halves[requestId] = pair;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The server is stopping.
        }

        await Task.WhenAll(relays);
    }

    private static async Task ForwardAsync(SpdyStream error, SpdyStream data, PortForwardStreamRequest request, IStreamingRuntime runtime, ILogger logger, CancellationToken cancellationToken)
    {
        var portText = data.Headers["port"] ?? string.Empty;
        try
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                throw new InvalidRequestException($"port '{portText}' is not 1 to 65535");
            }

            if (request.Ports.Count > 0 && !request.Ports.Contains(port))
            {
                throw new InvalidRequestException($"port {port} was not asked for in PortForward (ports {string.Join(", ", request.Ports)})");
            }

            await using var pod = await runtime.OpenPortAsync(request.SandboxId, port, cancellationToken);
            LogForwarding(logger, request.SandboxId, port);
            await PortForwardRelay.RunAsync(
                pod,
                (buffer, ct) => data.ReadAsync(buffer, ct),
                (chunk, ct) => data.WriteAsync(chunk, ct),
                ct => data.CloseWriteAsync(ct),
                cancellationToken);
        }
        catch (SphereletException e)
        {
            LogForwardFailed(logger, request.SandboxId, portText, e.Message);
            await Quietly(error.WriteAsync(Encoding.UTF8.GetBytes($"error forwarding port {portText} to pod {request.SandboxId}: {e.Message}"), cancellationToken));
            await Quietly(data.CloseWriteAsync(cancellationToken));
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client or the server went away.
        }
        finally
        {
            await Quietly(error.CloseWriteAsync(CancellationToken.None));
        }
    }

    private static async Task Quietly(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // The client has gone.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "port forward connection sandbox={SandboxId} port={Port}")]
    private static partial void LogForwarding(ILogger logger, string sandboxId, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "port forward failed sandbox={SandboxId} port={Port}: {Reason}")]
    private static partial void LogForwardFailed(ILogger logger, string sandboxId, string port, string reason);
}
