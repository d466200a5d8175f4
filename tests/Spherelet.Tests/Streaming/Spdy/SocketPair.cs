using System.Net.Sockets;

namespace Spherelet.Tests.Streaming.Spdy;

/// <summary>Two connected ends of a Unix domain stream socket, as streams: a real duplex transport without the network.</summary>
internal static class SocketPair
{
    public static async Task<(NetworkStream Server, NetworkStream Client)> CreateAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), $"spdy-{Guid.NewGuid():N}.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        try
        {
            listener.Listen(1);
            var accepted = listener.AcceptAsync();
            var client = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await client.ConnectAsync(new UnixDomainSocketEndPoint(path));
            var server = await accepted;
            return (new NetworkStream(server, ownsSocket: true), new NetworkStream(client, ownsSocket: true));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
