using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Streaming;
using Spherelet.Streaming.Spdy;

namespace Spherelet.Streaming;

/// <summary>
/// The streaming server behind CRI Exec, Attach and PortForward: an HTTP/1.1 server of its own
/// (Kestrel, on <see cref="StreamingServerOptions.Address"/>) where each URL names a single-use
/// token. A client upgrades the request to SPDY/3.1 (remote command <c>v4</c>, <c>v3</c> and
/// <c>v2.channel.k8s.io</c>; <c>portforward.k8s.io</c>) or to WebSocket (<c>v5.channel.k8s.io</c>,
/// <c>v4.channel.k8s.io</c>; <c>portforward.k8s.io</c>); an unknown, used or expired token is 404,
/// as the kubelet's own streaming server answers.
/// </summary>
public sealed partial class StreamingServer : IStreamingEndpoint, IAsyncDisposable
{
    private const string ProtocolHeader = "X-Stream-Protocol-Version";
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long a SPDY client has to open its streams after the upgrade (the kubelet's default).</summary>
    private static readonly TimeSpan StreamCreationTimeout = TimeSpan.FromSeconds(30);

    private readonly StreamingServerOptions _options;
    private readonly StreamRequestCache _requests;
    private readonly IStreamingRuntime _runtime;
    private readonly StreamingSessions _sessions;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<StreamingServer> _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;
    private int _disposed;

    public StreamingServer(StreamingServerOptions options, StreamRequestCache requests, IStreamingRuntime runtime, StreamingSessions sessions, ILoggerFactory loggers, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(loggers);
        _time = time ?? TimeProvider.System;
        _options = options;
        _requests = requests;
        _runtime = runtime;
        _sessions = sessions;
        _loggers = loggers;
        _logger = loggers.CreateLogger<StreamingServer>();
    }

    /// <summary>Where the server serves, once started (<c>http://ADDRESS:PORT/</c>).</summary>
    public Uri? BaseUrl { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(_loggers);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(_options.Address, _options.Port));
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.Map("/exec/{token}", context => ServeAsync(context, "exec"));
        app.Map("/attach/{token}", context => ServeAsync(context, "attach"));
        app.Map("/portforward/{token}", context => ServeAsync(context, "portforward"));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = new Uri(address.EndsWith('/') ? address : address + "/");
        _app = app;
        LogListening(BaseUrl);
    }

    /// <summary>The URL a client uses (once, before it expires) for the request.</summary>
    public Uri UrlFor(StreamRequest request)
    {
        var kind = Kind(request);
        var baseUrl = BaseUrl ?? throw new Domain.Errors.RuntimeNotReadyException("the streaming server is not serving yet");
        return new Uri(baseUrl, $"{kind}/{_requests.Insert(request)}");
    }

    public StreamingStatus Status() => new(BaseUrl, _sessions.Open, _sessions.Snapshot(), _requests.Count);

    /// <summary>Stops serving and ends every session; a second call (the service's stop, then the container's dispose) does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None);
            await _app.DisposeAsync();
        }

        _stopping.Dispose();
    }

    private static string Kind(StreamRequest request) => request switch
    {
        ExecStreamRequest => "exec",
        AttachStreamRequest => "attach",
        PortForwardStreamRequest => "portforward",
        _ => throw new ArgumentException($"no streaming kind for {request.GetType().Name}", nameof(request)),
    };

    private async Task ServeAsync(HttpContext context, string kind)
    {
        var token = (string?)context.GetRouteValue("token") ?? string.Empty;
        var request = _requests.Take(token);
        if (request is null || Kind(request) != kind)
        {
            LogUnknownToken(kind);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync("unknown, used or expired streaming token\n", context.RequestAborted);
            return;
        }

        if (context.WebSockets.IsWebSocketRequest)
        {
            await ServeWebSocketAsync(context, kind, request);
        }
        else if (context.Request.Headers.Upgrade.Any(u => u is not null && u.Contains("SPDY/3.1", StringComparison.OrdinalIgnoreCase)))
        {
            await ServeSpdyAsync(context, kind, request);
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("expected an upgrade to WebSocket or SPDY/3.1\n", context.RequestAborted);
        }
    }

    private async Task ServeWebSocketAsync(HttpContext context, string kind, StreamRequest request)
    {
        var served = kind == "portforward" ? [WebSocketPortForwardSession.Protocol] : WebSocketChannelTransport.Protocols;
        var offered = context.WebSockets.WebSocketRequestedProtocols;
        var protocol = served.FirstOrDefault(p => offered.Contains(p, StringComparer.Ordinal));
        if (protocol is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(
                $"no WebSocket subprotocol in common: offered '{string.Join(", ", offered)}', served '{string.Join(", ", served)}'\n",
                context.RequestAborted);
            return;
        }

        IReadOnlyList<int> ports = [];
        if (request is PortForwardStreamRequest forward)
        {
            ports = forward.Ports.Count > 0 ? forward.Ports : QueryPorts(context);
            if (ports.Count == 0)
            {
                context.Response.StatusCode = StatusCodes.Status400BadRequest;
                await context.Response.WriteAsync("port forwarding over WebSocket needs the ports: ?port=N (1 to 65535)\n", context.RequestAborted);
                return;
            }
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(protocol);
        using var lease = _sessions.Begin(kind);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, context.RequestAborted);
        var idle = new IdleWatch(_options.IdleTimeout, _time);
        await using var watching = idle.Start(stop);
        LogSessionStarted(kind, protocol, _sessions.Open);
        if (request is PortForwardStreamRequest portForward)
        {
            await WebSocketPortForwardSession.RunAsync(socket, portForward, ports, _runtime, _logger, stop.Token, idle.Touch);
        }
        else
        {
            using var transport = new WebSocketChannelTransport(socket, protocol, idle.Touch);
            var receiving = transport.ReceiveAsync(stop.Token);
            await RunRemoteCommandAsync(request, transport, stop.Token);

            // The close handshake: the client answers the server's close; one that does not is not waited for long.
            await Task.WhenAny(receiving, Task.Delay(CloseHandshakeTimeout, stop.Token));
            await stop.CancelAsync();
            await receiving;
        }

        LogSessionEnded(kind, idle.Expired ? "idle" : "done", _sessions.Open - 1);
    }

    /// <summary>The kubelet's SPDY upgrade: a protocol from the client's X-Stream-Protocol-Version headers, then 101 and SPDY/3.1 framing.</summary>
    private async Task ServeSpdyAsync(HttpContext context, string kind, StreamRequest request)
    {
        var served = kind == "portforward" ? [SpdyPortForwardSession.Protocol] : SpdyRemoteCommandTransport.Protocols;
        var offered = context.Request.Headers[ProtocolHeader].SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
        // A client that names no protocol gets the first one, as from the kubelet.
        var protocol = offered.Count == 0 ? served[^1] : served.FirstOrDefault(p => offered.Contains(p, StringComparer.Ordinal));
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (protocol is null || upgrade is not { IsUpgradableRequest: true })
        {
            context.Response.StatusCode = protocol is null ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(
                protocol is null
                    ? $"unable to upgrade: unable to negotiate protocol: client supports [{string.Join(", ", offered)}], server supports [{string.Join(", ", served)}]\n"
                    : "unable to upgrade: the request is not an upgrade request\n",
                context.RequestAborted);
            return;
        }

        context.Response.Headers.Connection = "Upgrade";
        context.Response.Headers.Upgrade = "SPDY/3.1";
        context.Response.Headers[ProtocolHeader] = protocol;
        var stream = await upgrade.UpgradeAsync();
        var idle = new IdleWatch(_options.IdleTimeout, _time);
        await using var connection = new SpdyConnection(stream, new SpdyConnectionOptions { OnActivity = idle.Touch });
        using var lease = _sessions.Begin(kind);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, context.RequestAborted);
        await using var watching = idle.Start(stop);
        LogSessionStarted(kind, protocol, _sessions.Open);
        switch (request)
        {
            case PortForwardStreamRequest forward:
                await SpdyPortForwardSession.RunAsync(connection, forward, _runtime, _logger, stop.Token);
                break;
            case ExecStreamRequest or AttachStreamRequest:
                var (stdin, stdout, stderr, tty) = request switch
                {
                    ExecStreamRequest e => (e.Stdin, e.Stdout, e.Stderr, e.Tty),
                    AttachStreamRequest a => (a.Stdin, a.Stdout, a.Stderr, a.Tty),
                    _ => default,
                };
                var transport = await SpdyRemoteCommandTransport.AcceptAsync(connection, protocol, stdin, stdout, stderr, tty, StreamCreationTimeout, stop.Token);
                if (transport is null)
                {
                    LogStreamsMissing(kind);
                    break;
                }

                await RunRemoteCommandAsync(request, transport, stop.Token);

                // The client closes the connection once it has read the status; one that does not is not waited for long.
                await Task.WhenAny(connection.Completion, Task.Delay(CloseHandshakeTimeout, stop.Token));
                break;
        }

        LogSessionEnded(kind, idle.Expired ? "idle" : "done", _sessions.Open - 1);
    }

    private Task RunRemoteCommandAsync(StreamRequest request, IRemoteCommandTransport transport, CancellationToken cancellationToken) => request switch
    {
        ExecStreamRequest exec => RemoteCommandSession.RunAsync(ct => _runtime.ExecAsync(exec, ct), transport, exec.Stdin, reportExitCode: true, _logger, cancellationToken),
        AttachStreamRequest attach => RemoteCommandSession.RunAsync(ct => _runtime.AttachAsync(attach, ct), transport, attach.Stdin, reportExitCode: false, _logger, cancellationToken),
        _ => Task.CompletedTask,
    };

    /// <summary>The <c>port</c> query parameters (port-forward over WebSocket); ones that are not ports are left out.</summary>
    private static List<int> QueryPorts(HttpContext context) =>
        context.Request.Query["port"]
            .SelectMany(v => (v ?? string.Empty).Split(','))
            .Select(p => int.TryParse(p, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) ? port : 0)
            .Where(p => p is > 0 and <= 65535)
            .ToList();

    [LoggerMessage(Level = LogLevel.Warning, Message = "streaming session ended before it began kind={Kind}: the client did not open its streams in time")]
    private partial void LogStreamsMissing(string kind);

    [LoggerMessage(Level = LogLevel.Information, Message = "streaming server listening url={Url}")]
    private partial void LogListening(Uri url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "streaming request refused kind={Kind}: unknown, used or expired token")]
    private partial void LogUnknownToken(string kind);

    [LoggerMessage(Level = LogLevel.Information, Message = "streaming session started kind={Kind} protocol={Protocol} open={Open}")]
    private partial void LogSessionStarted(string kind, string protocol, int open);

    [LoggerMessage(Level = LogLevel.Information, Message = "streaming session ended kind={Kind} why={Why} open={Open}")]
    private partial void LogSessionEnded(string kind, string why, int open);
}
