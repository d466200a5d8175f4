using System.Diagnostics;
using System.Globalization;

namespace Spherelet.Benchmarks;

/// <summary>
/// The baseline of the network benchmark: two network namespaces of the host on the pods' OVS
/// bridge, each through a veth pair (the host end an access port with the given VLAN tag, the
/// other end in the namespace with an address of one subnet), and a TCP receiver in the second
/// (<see cref="NetworkProbe.ReceiverCommand"/>, the same as in the pods). Transmit checksum
/// offload is off on the namespaces' ends: the userspace (netdev) datapath reads the host ends
/// through packet sockets and forwards a TCP segment whose checksum the kernel left to the NIC
/// as it is, so the receiver drops it (ICMP gets through, TCP connects time out). Everything it
/// made is removed by <see cref="DisposeAsync"/>, also after a set-up that failed half way.
/// </summary>
internal sealed class NetnsPair : IAsyncDisposable
{
    private readonly string _bridge;
    private readonly string[] _netns;
    private readonly string[] _hostEnds;
    private readonly string[] _addresses;
    private readonly List<string> _createdNetns = [];
    private Process? _receiver;

    private NetnsPair(string bridge, string id, string senderAddress, string receiverAddress)
    {
        _bridge = bridge;
        _netns = [$"sphbench-{id}-a", $"sphbench-{id}-b"];
        _hostEnds = [$"vb{id}a", $"vb{id}b"];
        _addresses = [senderAddress, receiverAddress];
    }

    /// <summary>The namespace the pings and transfers start from.</summary>
    public IShellPlace Sender => new NetnsShell(_netns[0]);

    public string SenderNetns => _netns[0];

    public string ReceiverNetns => _netns[1];

    public string ReceiverAddress => _addresses[1];

    /// <summary>Makes the pair on <paramref name="bridge"/> (which must exist) in <paramref name="vlan"/>; <paramref name="id"/> (6 hex digits) names the namespaces and the veths.</summary>
    public static async Task<NetnsPair> CreateAsync(string bridge, int vlan, string id, string senderAddress, string receiverAddress, int prefixLength)
    {
        var pair = new NetnsPair(bridge, id, senderAddress, receiverAddress);
        try
        {
            await pair.SetUpAsync(vlan, prefixLength);
            return pair;
        }
        catch
        {
            await pair.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_receiver is not null)
        {
            if (!_receiver.HasExited)
            {
                _receiver.Kill(entireProcessTree: true);
                await _receiver.WaitForExitAsync();
            }

            _receiver.Dispose();
        }

        for (var i = 0; i < _netns.Length; i++)
        {
            await BestEffortAsync("ovs-vsctl", "--if-exists", "del-port", _bridge, _hostEnds[i]);
            if (_createdNetns.Contains(_netns[i]))
            {
                // The namespace's end goes with the namespace, and the host end with its peer.
                await BestEffortAsync("ip", "netns", "delete", _netns[i]);
            }

            // Left when the namespace was never made or the veth's peer never moved there; else on its way out already.
            if (Directory.Exists($"/sys/class/net/{_hostEnds[i]}"))
            {
                var deleted = await HostProcess.RunAsync("ip", ["link", "delete", _hostEnds[i]], TimeSpan.FromSeconds(30), CancellationToken.None);
                if (deleted.ExitCode != 0 && Directory.Exists($"/sys/class/net/{_hostEnds[i]}"))
                {
                    await Console.Error.WriteLineAsync($"bench: veth {_hostEnds[i]} not removed: {deleted.Error.Trim()}");
                }
            }
        }
    }

    private async Task SetUpAsync(int vlan, int prefixLength)
    {
        for (var i = 0; i < _netns.Length; i++)
        {
            var inner = _hostEnds[i] + "n";
            await HostProcess.CheckedAsync("ip", "netns", "add", _netns[i]);
            _createdNetns.Add(_netns[i]);
            await HostProcess.CheckedAsync("ip", "link", "add", _hostEnds[i], "type", "veth", "peer", "name", inner, "netns", _netns[i]);
            await HostProcess.CheckedAsync("ip", "link", "set", "dev", _hostEnds[i], "up");
            await HostProcess.CheckedAsync("ovs-vsctl", "--timeout=10", "add-port", _bridge, _hostEnds[i], $"tag={vlan.ToString(CultureInfo.InvariantCulture)}");
            await HostProcess.CheckedAsync("ip", "netns", "exec", _netns[i], "ip", "link", "set", "dev", "lo", "up");
            await HostProcess.CheckedAsync("ip", "netns", "exec", _netns[i], "ip", "address", "add", $"{_addresses[i]}/{prefixLength.ToString(CultureInfo.InvariantCulture)}", "dev", inner);
            await HostProcess.CheckedAsync("ip", "netns", "exec", _netns[i], "ethtool", "-K", inner, "tx", "off");
            await HostProcess.CheckedAsync("ip", "netns", "exec", _netns[i], "ip", "link", "set", "dev", inner, "up");
        }

        // ip netns exec execs the command: the process is the receiver's nc.
        var start = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "netns", "exec", _netns[1], "sh", "-c", "exec " + NetworkProbe.ReceiverCommand })
        {
            start.ArgumentList.Add(arg);
        }

        _receiver = Process.Start(start)!;
        _receiver.StandardInput.Close();
        _receiver.OutputDataReceived += (_, _) => { };
        _receiver.ErrorDataReceived += (_, _) => { };
        _receiver.BeginOutputReadLine();
        _receiver.BeginErrorReadLine();
    }

    private static async Task BestEffortAsync(string file, params string[] args)
    {
        var result = await HostProcess.RunAsync(file, args, TimeSpan.FromSeconds(30), CancellationToken.None);
        if (result.ExitCode != 0)
        {
            await Console.Error.WriteLineAsync($"bench: {file} {string.Join(' ', args)} failed ({result.ExitCode}): {result.Error.Trim()}");
        }
    }
}
