using Microsoft.Extensions.Hosting;
using Spherelet.Streaming;

namespace Spherelet.Agent.Streaming;

/// <summary>Starts the streaming server with the daemon and stops it (ending its sessions) when the daemon stops.</summary>
public sealed class StreamingServerService : IHostedService
{
    private readonly StreamingServer _server;

    public StreamingServerService(StreamingServer server)
    {
        _server = server;
    }

    public Task StartAsync(CancellationToken cancellationToken) => _server.StartAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken) => await _server.DisposeAsync();
}
