using System.Threading.Channels;

namespace Spherelet.Domain.Sandboxes;

/// <summary>A TCP connection to a port inside a pod's VM (port-forward), relayed by its CRX.</summary>
public interface IPodPortConnection : IAsyncDisposable
{
    /// <summary>What the pod's server sends; completes when it has closed the connection (or the connection failed).</summary>
    ChannelReader<ReadOnlyMemory<byte>> Incoming { get; }

    Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Done sending: the pod's server reads end of file.</summary>
    Task CloseWriteAsync(CancellationToken cancellationToken);
}
