using Spherelet.Crx.Protocol.V1;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Vmm;

namespace Spherelet.Guest;

/// <summary>The domain's view of the guests (<see cref="IPodGuests"/>) over <see cref="GuestConnections"/>.</summary>
public sealed class PodGuests : IPodGuests
{
    private readonly GuestConnections _connections;
    private readonly GuestEndpoints _endpoints;

    /// <param name="connections">The pods' CRX connections.</param>
    /// <param name="endpoints">Where each pod's CRX is, as its backend registered it.</param>
    public PodGuests(GuestConnections connections, GuestEndpoints endpoints)
    {
        _connections = connections;
        _endpoints = endpoints;
    }

    /// <summary>The pod's connection, opened to the endpoint its backend registered when none is open.</summary>
    private Task<GuestConnection> ConnectionAsync(string sandboxId, CancellationToken cancellationToken) =>
        _connections.GetAsync(sandboxId, _endpoints.Get(sandboxId).ChannelSocketPath, cancellationToken);

    public int OpenConnections => _connections.OpenCount;

    public async Task<GuestInfo> ConnectAsync(string sandboxId, CancellationToken cancellationToken)
    {
        var connection = await ConnectionAsync(sandboxId, cancellationToken);
        return new GuestInfo(connection.Peer.CrxVersion, connection.Peer.KernelRelease, connection.Peer.BootToReadyMs);
    }

    public async Task ConfigureAsync(string sandboxId, GuestSandboxSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var connection = await ConnectionAsync(sandboxId, cancellationToken);
        var configure = new ConfigureSandbox
        {
            Hostname = settings.Hostname,
            DnsServers = { settings.Dns.Servers },
            DnsSearches = { settings.Dns.Searches },
            DnsOptions = { settings.Dns.Options },
            Sysctls = { settings.Sysctls.ToDictionary() },
        };
        if (settings.Network is { } network)
        {
            // CRX finds the NIC by its MAC, names it eth0, and routes everything via the segment's gateway.
            var nic = new Interface { Name = "eth0", Mac = network.Mac, Mtu = (uint)network.Mtu, Addresses = { $"{network.Address}/{network.PrefixLength}" } };
            configure.Routes.Add(new Route { Gateway = network.Gateway, Device = "eth0" });
            if (network.AddressV6 is { } addressV6 && network.GatewayV6 is { } gatewayV6)
            {
                nic.Addresses.Add($"{addressV6}/{network.PrefixLengthV6}");
                configure.Routes.Add(new Route { Gateway = gatewayV6, Device = "eth0" });
            }

            configure.Interfaces.Add(nic);
        }

        await connection.ConfigureSandboxAsync(configure, cancellationToken);
    }

    public async Task ShutdownAsync(string sandboxId, CancellationToken cancellationToken)
    {
        var connection = await ConnectionAsync(sandboxId, cancellationToken);
        _connections.ExpectClose(sandboxId);
        await connection.ShutdownAsync(reboot: false, cancellationToken);
    }

    public async Task<IPodPortConnection> OpenPortAsync(string sandboxId, int port, CancellationToken cancellationToken)
    {
        var connection = await ConnectionAsync(sandboxId, cancellationToken);
        return new GuestPortConnection(await connection.OpenPortAsync(port, cancellationToken), sandboxId);
    }

    public Task CloseAsync(string sandboxId) => _connections.CloseAsync(sandboxId);
}
