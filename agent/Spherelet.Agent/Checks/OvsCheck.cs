using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Spherelet.Agent.Options;
using Spherelet.Domain.Errors;
using Spherelet.Domain.Health;
using Spherelet.Network;

namespace Spherelet.Agent.Checks;

/// <summary>
/// Open vSwitch is up: the OVSDB server answers a JSON-RPC echo on its socket, the
/// ovs-vswitchd process named by its pid file is alive, and the integration bridge exists with
/// its datapath and is up (NetworkReady reflects the bridge's health). Also reports the datapath bridges get
/// (<see cref="OvsOptions.ResolveDatapath"/>: <c>Ovs:Datapath</c>, or with <c>auto</c> <c>system</c>
/// where the kernel has the openvswitch module, else <c>netdev</c>).
/// </summary>
public sealed class OvsCheck : IHostCheck
{
    private const string Fix =
        "install and start Open vSwitch: scripts/setup (or apt-get install openvswitch-switch; " +
        "systemctl start openvswitch-switch, or /usr/share/openvswitch/scripts/ovs-ctl start without systemd)";

    private readonly OvsOptions _options;
    private readonly string _moduleDirectory;
    private readonly bool _beforeStart;

    /// <param name="beforeStart">
    /// Checked before the daemon runs (<c>spherelet doctor</c>): a bridge that does not exist yet is
    /// fine, the daemon makes it at start. The running daemon's own check reports it as not ready.
    /// </param>
    public OvsCheck(SphereletOptions options, string moduleDirectory = "/sys/module/openvswitch", bool beforeStart = false)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Ovs;
        _moduleDirectory = moduleDirectory;
        _beforeStart = beforeStart;
    }

    public string Name => "ovs";

    public HealthArea Area => HealthArea.Network;

    /// <summary>The datapath type bridges get on this host.</summary>
    public string Datapath => _options.ResolveDatapath(_moduleDirectory);

    public async Task<HostCheckResult> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await EchoAsync(_options.DbSocket, cancellationToken);
        }
        catch (Exception e) when (e is SocketException or IOException or JsonException or InvalidDataException)
        {
            return HostCheckResult.Fail(Name, Area, "OvsdbUnreachable", $"OVSDB at {_options.DbSocket} does not answer: {e.Message}", Fix);
        }

        var pidFile = Path.Combine(_options.RunDirectory, "ovs-vswitchd.pid");
        if (!VswitchdAlive(pidFile, out var why))
        {
            return HostCheckResult.Fail(Name, Area, "OvsVswitchdDown", $"ovs-vswitchd is not running: {why}", Fix);
        }

        string? bridgeProblem;
        try
        {
            var ovs = new OvsSwitch(_options.DbSocket);
            bridgeProblem = await ovs.BridgeProblemAsync(_options.Bridge, Datapath, cancellationToken);
            if (_beforeStart && bridgeProblem is not null)
            {
                // What the daemon makes or brings up at start is not a problem yet; another datapath is.
                var datapath = await ovs.BridgeDatapathAsync(_options.Bridge, cancellationToken);
                if (datapath is null)
                {
                    return HostCheckResult.Ok(
                        Name, Area, $"OVSDB at {_options.DbSocket} answers, ovs-vswitchd running; the integration bridge {_options.Bridge} does not exist yet: the daemon makes it at start (datapath {Datapath})");
                }

                if (datapath == Datapath)
                {
                    return HostCheckResult.Ok(Name, Area, $"OVSDB at {_options.DbSocket} answers, ovs-vswitchd running; {bridgeProblem}: the daemon brings it up at start");
                }
            }
        }
        catch (NetworkOperationFailedException e)
        {
            bridgeProblem = e.Message;
        }

        if (bridgeProblem is not null)
        {
            return HostCheckResult.Fail(
                Name,
                Area,
                "BridgeNotReady",
                bridgeProblem,
                $"the agent makes the bridge at start and before each pod it attaches (restart spherelet), or: ovs-vsctl --may-exist add-br {_options.Bridge} -- set bridge {_options.Bridge} datapath_type={Datapath}; ip link set {_options.Bridge} up");
        }

        return HostCheckResult.Ok(Name, Area, $"OVSDB at {_options.DbSocket} answers, ovs-vswitchd running, bridge {_options.Bridge} up with datapath {Datapath}");
    }

    private static async Task EchoAsync(string socketPath, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
        var request = """{"method":"echo","params":["spherelet"],"id":"spherelet-check"}"""u8.ToArray();
        await socket.SendAsync(request, SocketFlags.None, cancellationToken);

        var buffer = new byte[4096];
        var filled = 0;
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                throw new IOException("OVSDB closed the connection before answering");
            }

            filled += read;
            if (TryReadReply(buffer.AsSpan(0, filled), out var reply))
            {
                using (reply)
                {
                    if (!reply.RootElement.TryGetProperty("id", out var id) || id.GetString() != "spherelet-check")
                    {
                        throw new InvalidDataException("OVSDB answered another request");
                    }

                    if (reply.RootElement.TryGetProperty("error", out var error) && error.ValueKind != JsonValueKind.Null)
                    {
                        throw new InvalidDataException("OVSDB answered the echo with an error: " + error.ToString());
                    }

                    return;
                }
            }

            if (filled == buffer.Length)
            {
                throw new InvalidDataException("OVSDB's answer to an echo is too long");
            }
        }
    }

    private static bool TryReadReply(ReadOnlySpan<byte> bytes, out JsonDocument reply)
    {
        var reader = new Utf8JsonReader(bytes, isFinalBlock: false, state: default);
        if (!JsonDocument.TryParseValue(ref reader, out var document))
        {
            reply = null!;
            return false;
        }

        reply = document;
        return true;
    }

    private static bool VswitchdAlive(string pidFile, out string why)
    {
        if (!File.Exists(pidFile))
        {
            why = $"no pid file {pidFile}";
            return false;
        }

        var text = File.ReadAllText(pidFile, Encoding.ASCII).Trim();
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            why = $"{pidFile} holds no pid";
            return false;
        }

        if (!Directory.Exists($"/proc/{pid}"))
        {
            why = $"process {pid} from {pidFile} does not exist";
            return false;
        }

        why = string.Empty;
        return true;
    }
}
