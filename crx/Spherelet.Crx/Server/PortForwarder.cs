using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Spherelet.Crx.Containers;
using Spherelet.Crx.Guest;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Server;

/// <summary>The TCP connections the host forwards into the pod (OpenPort), by stream id.</summary>
internal sealed class PortForwarder
{
    private readonly ConcurrentDictionary<ulong, PortRelay> _relays = new();
    private readonly Func<Frame, Task> _send;

    public PortForwarder(Func<Frame, Task> send)
    {
        _send = send;
    }

    /// <summary>Connects to the port on the VM's loopback (IPv4, then IPv6) and starts relaying it on <paramref name="streamId"/>.</summary>
    public async Task<ProcessStarted> OpenAsync(ulong streamId, OpenPort request)
    {
        if (request.Port is 0 or > 65535)
        {
            throw new CrxRequestException(CrxProtocol.Codes.InvalidArgument, $"port {request.Port} is not 1 to 65535");
        }

        var socket = await ConnectAsync((int)request.Port);
        var relay = new PortRelay(streamId, socket, _send, id => _relays.TryRemove(id, out _));
        _relays[streamId] = relay;
        CrxLog.Verbose($"port forward opened stream={streamId} port={request.Port}");
        _ = relay.RunAsync();
        return new ProcessStarted { Pid = 0 };
    }

    /// <summary>Whether the stream is a forwarded connection (its data was taken).</summary>
    public bool TryWrite(ulong streamId, StreamData data)
    {
        if (!_relays.TryGetValue(streamId, out var relay))
        {
            return false;
        }

        relay.Write(data);
        return true;
    }

    /// <summary>Whether the stream is a forwarded connection (the host's credit for it was taken).</summary>
    public bool TryCredit(ulong streamId, ulong bytes)
    {
        if (!_relays.TryGetValue(streamId, out var relay))
        {
            return false;
        }

        relay.Credit(bytes);
        return true;
    }

    /// <summary>Closes the forwarded connection on the stream, if it is one.</summary>
    public bool TryClose(ulong streamId)
    {
        if (!_relays.TryGetValue(streamId, out var relay))
        {
            return false;
        }

        relay.Dispose();
        return true;
    }

    /// <summary>The host is gone: every forwarded connection goes with it.</summary>
    public void CloseAll()
    {
        foreach (var relay in _relays.Values)
        {
            relay.Dispose();
        }
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        SocketException? last = null;
        foreach (var address in new[] { IPAddress.Loopback, IPAddress.IPv6Loopback })
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port));
                return socket;
            }
            catch (SocketException e)
            {
                socket.Dispose();
                last = e;
            }
        }

        throw new CrxRequestException(CrxProtocol.Codes.FailedPrecondition, $"nothing in the pod accepts connections on port {port}: {last?.Message}");
    }
}
