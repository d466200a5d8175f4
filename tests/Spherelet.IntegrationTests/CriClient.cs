using Grpc.Net.Client;
using Runtime.V1;
using Spherelet.Cri;

namespace Spherelet.IntegrationTests;

/// <summary>A CRI client over a Unix socket, as the kubelet uses it.</summary>
public sealed class CriClient : IDisposable
{
    private readonly GrpcChannel _channel;

    public CriClient(string socketPath)
    {
        _channel = CriChannel.ForUnixSocket(socketPath);
        Runtime = new RuntimeService.RuntimeServiceClient(_channel);
        Images = new ImageService.ImageServiceClient(_channel);
    }

    public RuntimeService.RuntimeServiceClient Runtime { get; }

    public ImageService.ImageServiceClient Images { get; }

    public void Dispose() => _channel.Dispose();

}
