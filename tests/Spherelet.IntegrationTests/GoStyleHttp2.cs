using System.Net.Sockets;

namespace Spherelet.IntegrationTests;

/// <summary>
/// A bare HTTP/2 client that sends a CRI Version call exactly as Go's gRPC does over a
/// Unix socket: its header block, made by an independent HPACK encoder with Huffman
/// coding, carries the socket path <c>/run/spherelet/spherelet.sock</c> as <c>:authority</c>.
/// </summary>
public static class GoStyleHttp2
{
    // :method POST, :scheme http, :path /runtime.v1.RuntimeService/Version,
    // :authority /run/spherelet/spherelet.sock, content-type application/grpc, te trailers.
    private const string HeaderBlock =
        "8386449962cb6a49a92afdc2bedb6a49a92ee2d9dcc42b1c4b620c7abf419562cb6a6115ce5b0b4152c22b9cb61682a5741c9d7f5f8b1d75d0620d263d4c4d65644082497f864d833505b11f";

    public static async Task<(bool Reset, byte[] Data)> CallVersionAsync(string socketPath)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
        using var stream = new NetworkStream(socket);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await stream.WriteAsync("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), timeout.Token);
        await stream.WriteAsync(Frame(0x4, 0, 0, []), timeout.Token);
        await stream.WriteAsync(Frame(0x1, 0x4, 1, Convert.FromHexString(HeaderBlock)), timeout.Token);
        await stream.WriteAsync(Frame(0x0, 0x1, 1, [0, 0, 0, 0, 0]), timeout.Token); // empty VersionRequest, END_STREAM

        var data = new List<byte>();
        var header = new byte[9];
        while (true)
        {
            await stream.ReadExactlyAsync(header, timeout.Token);
            var length = (header[0] << 16) | (header[1] << 8) | header[2];
            var payload = new byte[length];
            await stream.ReadExactlyAsync(payload, timeout.Token);
            var type = header[3];
            var streamId = ((header[5] & 0x7F) << 24) | (header[6] << 16) | (header[7] << 8) | header[8];
            if (type == 0x4 && (header[4] & 0x1) == 0)
            {
                await stream.WriteAsync(Frame(0x4, 0x1, 0, []), timeout.Token); // SETTINGS ack
            }
            else if (streamId == 1 && type == 0x3)
            {
                return (true, data.ToArray());
            }
            else if (streamId == 1 && type == 0x0)
            {
                data.AddRange(payload);
            }
            else if (streamId == 1 && type == 0x1 && (header[4] & 0x1) != 0)
            {
                return (false, data.ToArray()); // trailers end the call
            }
        }
    }

    private static byte[] Frame(byte type, byte flags, int stream, byte[] payload) =>
    [
        (byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, type, flags,
        (byte)(stream >> 24), (byte)(stream >> 16), (byte)(stream >> 8), (byte)stream, .. payload,
    ];
}
