using System.Buffers.Binary;
using Google.Protobuf;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Protocol;

/// <summary>Writes length-prefixed frames; safe to call from many tasks at once.</summary>
public sealed class FrameWriter : IDisposable
{
    private readonly Stream _stream;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public FrameWriter(Stream stream)
    {
        _stream = stream;
    }

    public async Task WriteAsync(Frame frame, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var size = frame.CalculateSize();
        if (size > CrxProtocol.MaxFrameBytes)
        {
            throw new ArgumentException($"frame of {size} bytes is larger than {CrxProtocol.MaxFrameBytes}", nameof(frame));
        }

        var buffer = new byte[4 + size];
        BinaryPrimitives.WriteUInt32BigEndian(buffer, (uint)size);
        frame.WriteTo(buffer.AsSpan(4));
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await _stream.WriteAsync(buffer, cancellationToken);
            await _stream.FlushAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();
}
