using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spherelet.Domain.Streaming;

namespace Spherelet.Streaming;

/// <summary>
/// The streaming server behind CRI Exec, Attach and PortForward: an HTTP/1.1 server of its own
/// (Kestrel, on <see cref="StreamingServerOptions.Address"/>) where each URL names a single-use
/// token. A client upgrades the request to WebSocket (<c>v5.channel.k8s.io</c>,
/// <c>v4.channel.k8s.io</c>); an unknown, used or expired token is 404, as the kubelet's own
/// streaming server answers.
/// </summary>
public sealed partial class StreamingServer : IStreamingEndpoint, IAsyncDisposable
{
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly StreamingServerOptions _options;
    private readonly StreamRequestCache _requests;
    private readonly IStreamingRuntime _runtime;
    private readonly StreamingSessions _sessions;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<StreamingServer> _logger;
    private readonly CancellationTokenSource _stopping = new();
    private WebApplication? _app;

    public StreamingServer(StreamingServerOptions options, StreamRequestCache requests, IStreamingRuntime runtime, StreamingSessions sessions, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(loggers);
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

    public async ValueTask DisposeAsync()
    {
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

        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("expected a WebSocket upgrade\n", context.RequestAborted);
            return;
        }

        var offered = context.WebSockets.WebSocketRequestedProtocols;
        var protocol = WebSocketChannelTransport.Protocols.FirstOrDefault(p => offered.Contains(p, StringComparer.Ordinal));
        if (protocol is null)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync(
                $"no WebSocket subprotocol in common: offered '{string.Join(", ", offered)}', served '{string.Join(", ", WebSocketChannelTransport.Protocols)}'\n",
                context.RequestAborted);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(protocol);
        using var lease = _sessions.Begin(kind);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, context.RequestAborted);
        using var transport = new WebSocketChannelTransport(socket, protocol);
        LogSessionStarted(kind, protocol, _sessions.Open);
        var receiving = transport.ReceiveAsync(stop.Token);
        switch (request)
        {
            case ExecStreamRequest exec:
                await RemoteCommandSession.RunAsync(ct => _runtime.ExecAsync(exec, ct), transport, exec.Stdin, reportExitCode: true, _logger, stop.Token);
                break;
            case AttachStreamRequest attach:
                await RemoteCommandSession.RunAsync(ct => _runtime.AttachAsync(attach, ct), transport, attach.Stdin, reportExitCode: false, _logger, stop.Token);
                break;
        }

        // The close handshake: the client answers the server's close; one that does not is not waited for long.
        await Task.WhenAny(receiving, Task.Delay(CloseHandshakeTimeout, stop.Token));
        await stop.CancelAsync();
        await receiving;
        LogSessionEnded(kind, _sessions.Open - 1);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "streaming server listening url={Url}")]
    private partial void LogListening(Uri url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "streaming request refused kind={Kind}: unknown, used or expired token")]
    private partial void LogUnknownToken(string kind);

    [LoggerMessage(Level = LogLevel.Information, Message = "streaming session started kind={Kind} protocol={Protocol} open={Open}")]
    private partial void LogSessionStarted(string kind, string protocol, int open);

    [LoggerMessage(Level = LogLevel.Information, Message = "streaming session ended kind={Kind} open={Open}")]
    private partial void LogSessionEnded(string kind, int open);
}
