using System.Globalization;
using System.Net;
using Spherelet.Domain.Network;

namespace Spherelet.Network;

/// <summary>
/// The integration bridge and the segments' gateway ports on Open vSwitch, through ovs-vsctl
/// (and ip for the host side of a port). Every change is idempotent (may-exist, if-exists), so a
/// retry or a restart repeats it safely. Spherelet's ports carry <c>external_ids</c> naming what
/// they are for, so <c>ovs-vsctl</c> shows whose port it is and recovery finds its own.
/// </summary>
public sealed class OvsSwitch
{
    /// <summary>The external_ids key that marks a port as Spherelet's and says what it is ("gateway", "pod").</summary>
    public const string RoleKey = "spherelet-role";

    public const string NamespaceKey = "spherelet-namespace";

    private readonly string _dbSocket;

    public OvsSwitch(string dbSocket)
    {
        _dbSocket = dbSocket;
    }

    /// <summary>Creates the bridge when it is missing (with the given datapath: <c>system</c> or <c>netdev</c>) and brings it up.</summary>
    public async Task EnsureBridgeAsync(string bridge, string datapath, CancellationToken cancellationToken)
    {
        await VsctlAsync(["--may-exist", "add-br", bridge, "--", "set", "bridge", bridge, $"datapath_type={datapath}"], cancellationToken);
        await IpAsync(["link", "set", "dev", bridge, "up"], cancellationToken);
    }

    /// <summary>Deletes the bridge and every port on it; a missing bridge is fine.</summary>
    public Task DeleteBridgeAsync(string bridge, CancellationToken cancellationToken) =>
        VsctlAsync(["--if-exists", "del-br", bridge], cancellationToken);

    /// <summary>The bridge's datapath type (an empty one is OVS's default, <c>system</c>), or null when there is no such bridge.</summary>
    public async Task<string?> BridgeDatapathAsync(string bridge, CancellationToken cancellationToken)
    {
        var output = await VsctlAsync(["--if-exists", "get", "bridge", bridge, "name", "datapath_type"], cancellationToken);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length < 2)
        {
            return null;
        }

        var datapath = Unquote(lines[1]);
        return datapath.Length > 0 ? datapath : "system";
    }

    /// <summary>
    /// The segment's gateway: an internal port on the bridge in the segment's VLAN, holding the
    /// gateway address on the host (the pods' default route), with the pods' MTU. Made when missing,
    /// corrected when it differs.
    /// </summary>
    public async Task EnsureGatewayPortAsync(string bridge, NetworkSegment segment, int mtu, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var port = GatewayPortName(segment.Vlan);
        await VsctlAsync(
            [
                "--may-exist", "add-port", bridge, port, "--",
                "set", "interface", port, "type=internal", $"mtu_request={mtu.ToString(CultureInfo.InvariantCulture)}", $"mac=\"{GatewayMac(segment.Vlan)}\"", "--",
                "set", "port", port, $"tag={segment.Vlan.ToString(CultureInfo.InvariantCulture)}",
                $"external_ids:{RoleKey}=gateway", $"external_ids:{NamespaceKey}={segment.Namespace}",
            ],
            cancellationToken);
        await IpAsync(["link", "set", "dev", port, "mtu", mtu.ToString(CultureInfo.InvariantCulture), "up"], cancellationToken);
        await IpAsync(["address", "replace", $"{segment.Gateway}/{segment.Subnet.PrefixLength}", "dev", port], cancellationToken);
        if (segment.SubnetV6 is { } subnetV6 && segment.GatewayV6 is { } gatewayV6)
        {
            await IpAsync(["-6", "address", "replace", $"{gatewayV6}/{subnetV6.PrefixLength}", "dev", port, "nodad"], cancellationToken);
        }
    }

    /// <summary>Removes the segment's gateway port (its address goes with it); a missing port is fine.</summary>
    public Task RemoveGatewayPortAsync(string bridge, int vlan, CancellationToken cancellationToken) =>
        VsctlAsync(["--if-exists", "del-port", bridge, GatewayPortName(vlan)], cancellationToken);

    /// <summary>Sets <c>external_ids</c> on a port (a pod's NIC, once its VM runs), so <c>ovs-vsctl</c> shows whose port it is.</summary>
    public Task LabelPortAsync(string port, IReadOnlyDictionary<string, string> externalIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(externalIds);
        return VsctlAsync(["set", "port", port, .. externalIds.Select(e => $"external_ids:{e.Key}=\"{e.Value}\"")], cancellationToken);
    }

    /// <summary>Removes a port from the bridge; a missing one is fine.</summary>
    public Task RemovePortAsync(string bridge, string port, CancellationToken cancellationToken) =>
        VsctlAsync(["--if-exists", "del-port", bridge, port], cancellationToken);

    /// <summary>The ports on the bridge that Spherelet made, with their role.</summary>
    public async Task<IReadOnlyDictionary<string, string>> SpherletPortsAsync(string bridge, CancellationToken cancellationToken)
    {
        var ports = new Dictionary<string, string>(StringComparer.Ordinal);
        var listed = await VsctlAsync(["list-ports", bridge], cancellationToken);
        foreach (var port in listed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var role = await VsctlAsync(["--if-exists", "get", "port", port, $"external_ids:{RoleKey}"], cancellationToken);
            if (Unquote(role) is { Length: > 0 } value)
            {
                ports[port] = value;
            }
        }

        return ports;
    }

    /// <summary>The names of every port on the bridge (one call, for checking that ports are still there).</summary>
    public async Task<IReadOnlySet<string>> PortNamesAsync(string bridge, CancellationToken cancellationToken) =>
        (await VsctlAsync(["list-ports", bridge], cancellationToken))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// Puts a pod's NIC (its tap, which the VMM made) back on the bridge in its VLAN, as the VMM
    /// plugged it, when the bridge lost it (the bridge was deleted and made again).
    /// </summary>
    public Task PlugPortAsync(string bridge, string port, int vlan, string mac, Guid interfaceId, CancellationToken cancellationToken) =>
        VsctlAsync(
            [
                "--may-exist", "add-port", bridge, port, $"tag={vlan.ToString(CultureInfo.InvariantCulture)}", "--",
                "set", "interface", port,
                $"external_ids:attached-mac=\"{mac}\"", $"external_ids:iface-id=\"{interfaceId}\"", "external_ids:iface-status=active",
            ],
            cancellationToken);

    /// <summary>Every address the host's interfaces hold now, by interface name (one call).</summary>
    public static async Task<IReadOnlyDictionary<string, IReadOnlySet<IPAddress>>> HostAddressesAsync(CancellationToken cancellationToken)
    {
        var addresses = new Dictionary<string, HashSet<IPAddress>>(StringComparer.Ordinal);
        foreach (var line in (await HostCommand.RunAsync("ip", ["-o", "address", "show"], cancellationToken)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "7: sph-gw100    inet 10.0.0.1/26 brd 10.0.0.63 scope global sph-gw100\       valid_lft ..."
            var words = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length >= 4 && words[2] is "inet" or "inet6" && IPAddress.TryParse(words[3].Split('/')[0], out var address))
            {
                var name = words[1].Split('@')[0];
                if (!addresses.TryGetValue(name, out var set))
                {
                    addresses[name] = set = [];
                }

                set.Add(address);
            }
        }

        return addresses.ToDictionary(a => a.Key, a => (IReadOnlySet<IPAddress>)a.Value, StringComparer.Ordinal);
    }

    /// <summary>Whether the host interface exists and is up.</summary>
    public static bool InterfaceUp(string name)
    {
        var flags = Path.Combine("/sys/class/net", name, "flags");
        try
        {
            return (Convert.ToInt32(File.ReadAllText(flags).Trim(), 16) & 1) != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return false;
        }
    }

    /// <summary>
    /// A segment gateway's MAC, fixed by its VLAN (locally administered, 02:53:47 for "SG"), so a
    /// gateway made again (after its bridge was deleted, say) answers at the address the pods'
    /// ARP caches already hold.
    /// </summary>
    public static string GatewayMac(int vlan) =>
        string.Create(CultureInfo.InvariantCulture, $"02:53:47:00:{(vlan >> 8) & 0xff:x2}:{vlan & 0xff:x2}");

    /// <summary>A segment gateway's interface name: short (at most 15 bytes) and fixed by its VLAN.</summary>
    public static string GatewayPortName(int vlan) => string.Create(CultureInfo.InvariantCulture, $"sph-gw{vlan}");

    /// <summary>The VLAN a gateway port's name holds, or null when it is no gateway's name.</summary>
    public static int? GatewayVlan(string port) =>
        port.StartsWith("sph-gw", StringComparison.Ordinal) && int.TryParse(port.AsSpan(6), NumberStyles.None, CultureInfo.InvariantCulture, out var vlan) ? vlan : null;

    /// <summary>Whether the bridge exists, has the datapath given and is up on the host; the reason when it is not.</summary>
    public async Task<string?> BridgeProblemAsync(string bridge, string datapath, CancellationToken cancellationToken)
    {
        var actual = await BridgeDatapathAsync(bridge, cancellationToken);
        if (actual is null)
        {
            return $"the integration bridge {bridge} does not exist";
        }

        if (actual != datapath)
        {
            return $"the integration bridge {bridge} has datapath {actual}, not {datapath}";
        }

        if (!Directory.Exists(Path.Combine("/sys/class/net", bridge)))
        {
            return $"the integration bridge {bridge} has no interface on the host";
        }

        return InterfaceUp(bridge) ? null : $"the integration bridge {bridge} is down";
    }

    /// <summary>The IPv4 address a port holds on the host, or null.</summary>
    public static async Task<IPAddress?> HostAddressAsync(string port, CancellationToken cancellationToken) =>
        (await HostAddressesAsync(cancellationToken)).GetValueOrDefault(port)?.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);

    private Task<string> VsctlAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        HostCommand.RunAsync("ovs-vsctl", [$"--db=unix:{_dbSocket}", "--timeout=10", .. arguments], cancellationToken);

    private static Task<string> IpAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        HostCommand.RunAsync("ip", arguments, cancellationToken);

    private static string Unquote(string value) => value.Trim().Trim('"');
}
