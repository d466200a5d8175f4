using System.Net.Sockets;
using Grpc.Net.Client;

namespace Spherelet.Cri;

/// <summary>gRPC channels to a CRI endpoint on a Unix socket, for Spherelet's own clients.</summary>
public static class CriChannel
{
    /// <summary>A channel whose every connection goes to <paramref name="socketPath"/>.</summary>
    public static GrpcChannel ForUnixSocket(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), token);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        // 16 MiB, as the kubelet takes: an ExecSync answer holds up to 4 MiB each of stdout and stderr.
        return GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true, MaxReceiveMessageSize = 16 * 1024 * 1024 });
    }
}
