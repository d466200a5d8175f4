using Spherelet.Crx.Protocol.V1;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Guest;

/// <summary>The domain's view of the guests (<see cref="IPodGuests"/>) over <see cref="GuestConnections"/>.</summary>
public sealed class PodGuests : IPodGuests
{
    private readonly GuestConnections _connections;

    public PodGuests(GuestConnections connections)
    {
        _connections = connections;
    }

    public int OpenConnections => _connections.OpenCount;

    public async Task<GuestInfo> ConnectAsync(string sandboxId, string channelSocketPath, CancellationToken cancellationToken)
    {
        var connection = await _connections.GetAsync(sandboxId, channelSocketPath, cancellationToken);
        return new GuestInfo(connection.Peer.CrxVersion, connection.Peer.KernelRelease, connection.Peer.BootToReadyMs);
    }

    public async Task ConfigureAsync(string sandboxId, string channelSocketPath, GuestSandboxSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var connection = await _connections.GetAsync(sandboxId, channelSocketPath, cancellationToken);
        await connection.ConfigureSandboxAsync(
            new ConfigureSandbox
            {
                Hostname = settings.Hostname,
                DnsServers = { settings.Dns.Servers },
                DnsSearches = { settings.Dns.Searches },
                DnsOptions = { settings.Dns.Options },
                Sysctls = { settings.Sysctls.ToDictionary() },
            },
            cancellationToken);
    }

    public async Task ShutdownAsync(string sandboxId, string channelSocketPath, CancellationToken cancellationToken)
    {
        var connection = await _connections.GetAsync(sandboxId, channelSocketPath, cancellationToken);
        _connections.ExpectClose(sandboxId);
        await connection.ShutdownAsync(reboot: false, cancellationToken);
    }

    public Task CloseAsync(string sandboxId) => _connections.CloseAsync(sandboxId);
}
