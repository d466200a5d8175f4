using System.Net.Sockets;

namespace Spherelet.Tests.Crx;

/// <summary>Two connected Unix stream sockets, as the two ends of a host-guest channel.</summary>
internal sealed class SocketPair : IDisposable
{
    private SocketPair(NetworkStream host, NetworkStream guest)
    {
        Host = host;
        Guest = guest;
    }

    public NetworkStream Host { get; }

    public NetworkStream Guest { get; }

    public static async Task<SocketPair> CreateAsync()
    {
        var dir = Directory.CreateTempSubdirectory("crx-pair-").FullName;
        var path = Path.Combine(dir, "s");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        var accept = listener.AcceptAsync();
        await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
        var server = await accept;
        Directory.Delete(dir, recursive: true);
        return new SocketPair(new NetworkStream(client, ownsSocket: true), new NetworkStream(server, ownsSocket: true));
    }

    public void Dispose()
    {
        Host.Dispose();
        Guest.Dispose();
    }
}
