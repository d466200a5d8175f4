using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Text.RegularExpressions;
using Spherelet.Domain.Errors;

namespace Spherelet.Network;

/// <summary>
/// Port security on the bridge (ovs-ofctl): what a pod's port sends is let on only from the pod's
/// own MAC and its own IPv4 and IPv6 addresses (ARP and neighbour discovery included: a pod can
/// neither answer for another's address nor claim one); everything else from the port is dropped.
/// The flows sit in table 0 and pass what they allow on to table 1, where the rest of the bridge's
/// flows are (segment isolation, then normal switching); traffic from ports that are not pods'
/// goes to table 1 as it is. A pod's flows carry a cookie made of the agent instance and the pod's
/// MAC serial, so they are replaced and removed together.
/// </summary>
public sealed partial class OvsPortSecurity
{
    /// <summary>The table where everything but port security lives.</summary>
    public const int NextTable = 1;

    private const ulong Marker = 0x5000_0000; // "P"

    private readonly string _runDirectory;
    private readonly ulong _instanceBits;

    /// <param name="runDirectory">Where ovs-vswitchd keeps its bridges' management sockets.</param>
    /// <param name="instance">The agent instance (hex digits; its first eight make the cookie's upper half).</param>
    public OvsPortSecurity(string runDirectory, string instance)
    {
        _runDirectory = runDirectory;
        _instanceBits = Ofctl.InstanceBits(instance);
    }

    /// <summary>The cookie of the pod's flows: the agent instance and the last three bytes of its MAC.</summary>
    public ulong Cookie(string mac)
    {
        var bytes = PhysicalAddress.Parse(mac.Replace(':', '-')).GetAddressBytes();
        return _instanceBits | Marker | ((ulong)bytes[3] << 16) | ((ulong)bytes[4] << 8) | bytes[5];
    }

    /// <summary>How many flows secure a port: three, and seven more with an IPv6 address.</summary>
    public static int FlowsFor(bool dualStack) => dualStack ? 10 : 3;

    /// <summary>The flows that secure the port <paramref name="ofport"/>, in ovs-ofctl's syntax.</summary>
    public IReadOnlyList<string> Flows(int ofport, string mac, IPAddress address, IPAddress? addressV6)
    {
        ArgumentNullException.ThrowIfNull(address);
        var cookie = "cookie=0x" + Cookie(mac).ToString("x", CultureInfo.InvariantCulture);
        var port = $"table=0,in_port={ofport.ToString(CultureInfo.InvariantCulture)}";
        var pass = $"actions=resubmit(,{NextTable.ToString(CultureInfo.InvariantCulture)})";
        var flows = new List<string>
        {
            $"{cookie},{port},priority=300,dl_src={mac},ip,nw_src={address},{pass}",
            $"{cookie},{port},priority=300,dl_src={mac},arp,arp_sha={mac},arp_spa={address},{pass}",
        };
        if (addressV6 is not null)
        {
            var linkLocal = LinkLocal(mac);
            flows.Add($"{cookie},{port},priority=300,dl_src={mac},ipv6,ipv6_src={addressV6},{pass}");
            flows.Add($"{cookie},{port},priority=300,dl_src={mac},ipv6,ipv6_src={linkLocal},{pass}");
            // Duplicate address detection and its multicast listener report come from ::.
            flows.Add($"{cookie},{port},priority=300,dl_src={mac},icmp6,ipv6_src=::,icmp_type=135,{pass}");
            flows.Add($"{cookie},{port},priority=300,dl_src={mac},icmp6,ipv6_src=::,icmp_type=143,{pass}");
            // A neighbour advertisement may speak only for the pod's own addresses.
            flows.Add($"{cookie},{port},priority=310,dl_src={mac},icmp6,icmp_type=136,icmp_code=0,nd_target={addressV6},{pass}");
            flows.Add($"{cookie},{port},priority=310,dl_src={mac},icmp6,icmp_type=136,icmp_code=0,nd_target={linkLocal},{pass}");
            flows.Add($"{cookie},{port},priority=305,icmp6,icmp_type=136,actions=drop");
        }

        flows.Add($"{cookie},{port},priority=290,actions=drop");
        return flows;
    }

    /// <summary>
    /// The bridge's own flows: table 0 passes what is not a secured pod's to <see cref="NextTable"/>,
    /// which switches as usual. Adding them again changes nothing.
    /// </summary>
    public Task EnsureBaseAsync(string bridge, CancellationToken cancellationToken) =>
        Ofctl.AddFlowsAsync(Target(bridge), BaseFlows, cancellationToken);

    private static readonly string[] BaseFlows =
    [
        $"table=0,priority=0,actions=resubmit(,{NextTable})",
        $"table={NextTable},priority=0,actions=NORMAL",
    ];

    /// <summary>
    /// Secures the pod's port: its flows for the port's current OpenFlow number, then any flows of
    /// the pod for an older number are removed (the new ones are in place first: no moment unsecured).
    /// </summary>
    /// <exception cref="NetworkOperationFailedException">The port has no OpenFlow number within a few seconds, or ovs-ofctl failed.</exception>
    public async Task SecureAsync(string bridge, string portName, string mac, IPAddress address, IPAddress? addressV6, CancellationToken cancellationToken)
    {
        var ofport = await OfportAsync(portName, cancellationToken);
        // The bridge's own flows and the pod's, in one ovs-ofctl run.
        await Ofctl.AddFlowsAsync(Target(bridge), BaseFlows.Concat(Flows(ofport, mac, address, addressV6)), cancellationToken);

        var cookie = Cookie(mac).ToString("x", CultureInfo.InvariantCulture);
        var dump = await OfctlAsync(["--no-names", "dump-flows", Target(bridge), $"table=0,cookie=0x{cookie}/-1"], cancellationToken);
        foreach (var stale in InPort().Matches(dump).Select(m => m.Groups["port"].Value).Distinct(StringComparer.Ordinal).Where(p => p != ofport.ToString(CultureInfo.InvariantCulture)))
        {
            await OfctlAsync(["del-flows", Target(bridge), $"table=0,cookie=0x{cookie}/-1,in_port={stale}"], cancellationToken);
        }
    }

    /// <summary>Removes the pod's flows; none is fine.</summary>
    public Task ReleaseAsync(string bridge, string mac, CancellationToken cancellationToken) =>
        OfctlAsync(["del-flows", Target(bridge), $"table=0,cookie=0x{Cookie(mac).ToString("x", CultureInfo.InvariantCulture)}/-1"], cancellationToken);

    /// <summary>Removes the flows with <paramref name="cookie"/> (a pod's that is gone).</summary>
    public Task ReleaseCookieAsync(string bridge, ulong cookie, CancellationToken cancellationToken) =>
        OfctlAsync(["del-flows", Target(bridge), $"table=0,cookie=0x{cookie.ToString("x", CultureInfo.InvariantCulture)}/-1"], cancellationToken);

    /// <summary>How many port security flows of this agent each pod (by cookie) has on the bridge now.</summary>
    public async Task<IReadOnlyDictionary<ulong, int>> FlowCountsAsync(string bridge, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<ulong, int>();
        foreach (var cookie in Ofctl.Cookies(await OfctlAsync(["--no-names", "dump-flows", Target(bridge), "table=0"], cancellationToken)))
        {
            if ((cookie & 0xFFFF_FFFF_FF00_0000) == (_instanceBits | Marker))
            {
                counts[cookie] = counts.GetValueOrDefault(cookie) + 1;
            }
        }

        return counts;
    }

    /// <summary>The IPv6 link-local address a kernel forms from <paramref name="mac"/> (modified EUI-64).</summary>
    public static IPAddress LinkLocal(string mac)
    {
        var m = PhysicalAddress.Parse(mac.Replace(':', '-')).GetAddressBytes();
        var bytes = new byte[16];
        bytes[0] = 0xfe;
        bytes[1] = 0x80;
        bytes[8] = (byte)(m[0] ^ 0x02);
        bytes[9] = m[1];
        bytes[10] = m[2];
        bytes[11] = 0xff;
        bytes[12] = 0xfe;
        bytes[13] = m[3];
        bytes[14] = m[4];
        bytes[15] = m[5];
        return new IPAddress(bytes);
    }

    private static async Task<int> OfportAsync(string portName, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var text = (await HostCommand.RunAsync("ovs-vsctl", ["--timeout=5", "get", "interface", portName, "ofport"], cancellationToken)).Trim();
            if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ofport) && ofport > 0)
            {
                return ofport;
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new NetworkOperationFailedException($"port {portName} has no OpenFlow port number");
    }

    private string Target(string bridge) => Ofctl.Target(_runDirectory, bridge);

    private static Task<string> OfctlAsync(IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        Ofctl.RunAsync(arguments, cancellationToken);

    [GeneratedRegex("in_port=\"?(?<port>[0-9]+)")]
    private static partial Regex InPort();
}
