using System.Net;
using Spherelet.Domain.Network;
using Spherelet.Network;

namespace Spherelet.IntegrationTests.Network;

/// <summary>
/// The integration bridge and a segment's gateway port on the real Open vSwitch (netdev
/// datapath here). Needs root and a running ovsdb-server and ovs-vswitchd (scripts/setup
/// starts them). Each test uses a bridge and a VLAN of its own and deletes them.
/// </summary>
public sealed class OvsSwitchTests : IAsyncLifetime
{
    private const string DbSocket = "/run/openvswitch/db.sock";
    private readonly OvsSwitch _ovs = new(DbSocket);
    private readonly string _bridge = "sphtst" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3));
    private readonly int _vlan = 3000 + System.Security.Cryptography.RandomNumberGenerator.GetInt32(1000);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _ovs.RemoveGatewayPortAsync(_bridge, _vlan, CancellationToken.None);
        await _ovs.DeleteBridgeAsync(_bridge, CancellationToken.None);
    }

    private NetworkSegment Segment => new("team-a", _vlan, IPNetwork.Parse("10.250.7.0/26"), IPAddress.Parse("10.250.7.1"), 2);

    [Fact]
    public async Task Before_the_daemon_starts_a_missing_bridge_is_what_it_will_make_and_the_running_daemons_check_reports_it_not_ready()
    {
        var options = new Spherelet.Agent.Options.SphereletOptions { Ovs = new Spherelet.Agent.Options.OvsOptions { DbSocket = DbSocket, Bridge = _bridge, Datapath = "netdev" } };

        var doctor = await new Spherelet.Agent.Checks.OvsCheck(options, beforeStart: true).RunAsync(CancellationToken.None);
        var running = await new Spherelet.Agent.Checks.OvsCheck(options).RunAsync(CancellationToken.None);

        Assert.Equal(Spherelet.Domain.Health.CheckOutcome.Ok, doctor.Outcome);
        Assert.Contains($"the integration bridge {_bridge} does not exist yet: the daemon makes it at start", doctor.Detail, StringComparison.Ordinal);
        Assert.Equal(Spherelet.Domain.Health.CheckOutcome.Failed, running.Outcome);
        Assert.Equal("BridgeNotReady", running.Reason);

        // Made but down: the daemon brings it up at start; of another datapath: that it cannot change.
        await _ovs.EnsureBridgeAsync(_bridge, "netdev", CancellationToken.None);
        await HostCommand.RunAsync("ip", ["link", "set", _bridge, "down"], CancellationToken.None);
        var down = await new Spherelet.Agent.Checks.OvsCheck(options, beforeStart: true).RunAsync(CancellationToken.None);
        Assert.Equal(Spherelet.Domain.Health.CheckOutcome.Ok, down.Outcome);
        Assert.Contains($"the integration bridge {_bridge} is down: the daemon brings it up at start", down.Detail, StringComparison.Ordinal);
        options.Ovs.Datapath = "system";
        Assert.Equal("BridgeNotReady", (await new Spherelet.Agent.Checks.OvsCheck(options, beforeStart: true).RunAsync(CancellationToken.None)).Reason);
    }

    [Fact]
    public async Task A_bridge_is_made_once_with_the_datapath_asked_for_its_health_names_what_is_wrong_and_it_is_deleted_with_its_ports()
    {
        await _ovs.EnsureBridgeAsync(_bridge, "netdev", CancellationToken.None);
        await _ovs.EnsureBridgeAsync(_bridge, "netdev", CancellationToken.None);

        Assert.Equal("netdev", await _ovs.BridgeDatapathAsync(_bridge, CancellationToken.None));
        Assert.Null(await _ovs.BridgeProblemAsync(_bridge, "netdev", CancellationToken.None));
        Assert.Equal($"the integration bridge {_bridge} has datapath netdev, not system", await _ovs.BridgeProblemAsync(_bridge, "system", CancellationToken.None));
        await HostCommand.RunAsync("ip", ["link", "set", _bridge, "down"], CancellationToken.None);
        Assert.Equal($"the integration bridge {_bridge} is down", await _ovs.BridgeProblemAsync(_bridge, "netdev", CancellationToken.None));
        Assert.Contains(_bridge, await HostCommand.RunAsync("ovs-vsctl", [$"--db=unix:{DbSocket}", "list-br"], CancellationToken.None), StringComparison.Ordinal);

        await _ovs.DeleteBridgeAsync(_bridge, CancellationToken.None);
        await _ovs.DeleteBridgeAsync(_bridge, CancellationToken.None);
        Assert.Null(await _ovs.BridgeDatapathAsync(_bridge, CancellationToken.None));
        Assert.Equal($"the integration bridge {_bridge} does not exist", await _ovs.BridgeProblemAsync(_bridge, "netdev", CancellationToken.None));
    }

    [Fact]
    public async Task A_gateway_port_sits_in_its_segments_vlan_holds_the_gateway_address_with_the_mtu_and_is_marked_as_spherelets()
    {
        await _ovs.EnsureBridgeAsync(_bridge, "netdev", CancellationToken.None);
        var port = OvsSwitch.GatewayPortName(_vlan);

        await _ovs.EnsureGatewayPortAsync(_bridge, Segment, 1400, CancellationToken.None);
        await _ovs.EnsureGatewayPortAsync(_bridge, Segment, 1400, CancellationToken.None);

        var tag = await HostCommand.RunAsync("ovs-vsctl", [$"--db=unix:{DbSocket}", "get", "port", port, "tag"], CancellationToken.None);
        var owner = await HostCommand.RunAsync("ovs-vsctl", [$"--db=unix:{DbSocket}", "get", "port", port, "external_ids:spherelet-namespace"], CancellationToken.None);
        Assert.Equal(_vlan.ToString(System.Globalization.CultureInfo.InvariantCulture), tag.Trim());
        Assert.Equal("team-a", owner.Trim().Trim('"'));
        Assert.Equal(IPAddress.Parse("10.250.7.1"), await OvsSwitch.HostAddressAsync(port, CancellationToken.None));
        Assert.Equal("gateway", (await _ovs.SpherletPortsAsync(_bridge, CancellationToken.None))[port]);
        Assert.Equal("1400", (await File.ReadAllTextAsync($"/sys/class/net/{port}/mtu")).Trim());
        Assert.Equal(OvsSwitch.GatewayMac(_vlan), (await File.ReadAllTextAsync($"/sys/class/net/{port}/address")).Trim());
        Assert.Matches("^02:53:47:00:[0-9a-f]{2}:[0-9a-f]{2}$", OvsSwitch.GatewayMac(_vlan));
        Assert.Equal(_vlan, OvsSwitch.GatewayVlan(port));

        await _ovs.RemoveGatewayPortAsync(_bridge, _vlan, CancellationToken.None);
        await _ovs.RemoveGatewayPortAsync(_bridge, _vlan, CancellationToken.None);
        Assert.Empty(await _ovs.SpherletPortsAsync(_bridge, CancellationToken.None));
        Assert.DoesNotContain(port, await HostCommand.RunAsync("ip", ["-o", "link", "show"], CancellationToken.None), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_command_is_a_network_error_naming_the_command()
    {
        var error = await Assert.ThrowsAsync<Spherelet.Domain.Errors.NetworkOperationFailedException>(() =>
            _ovs.EnsureGatewayPortAsync("no-such-bridge-x", Segment, 1500, CancellationToken.None));

        Assert.Contains("ovs-vsctl", error.Message, StringComparison.Ordinal);
        Assert.Contains("no-such-bridge-x", error.Message, StringComparison.Ordinal);
    }
}
