using System.Threading.Channels;
using Spherelet.Crx.Protocol;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Guest;

/// <summary>A port-forward connection relayed by CRX on one stream (<see cref="CrxProcess"/>): STDOUT is what the pod's server sends, STDIN what it gets.</summary>
internal sealed class GuestPortConnection : IPodPortConnection
{
    private readonly CrxProcess _stream;
    private readonly string _sandboxId;
    // Bounded: a client that reads slowly stops the reading from CRX, whose stream then waits for credit.
    private readonly Channel<ReadOnlyMemory<byte>> _incoming = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });
    private readonly Task _pump;
    private int _disposed;

    public GuestPortConnection(CrxProcess stream, string sandboxId)
    {
        _stream = stream;
        _sandboxId = sandboxId;
        _pump = PumpAsync();
    }

    public ChannelReader<ReadOnlyMemory<byte>> Incoming => _incoming.Reader;

    public Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        Translate(() => _stream.WriteStdinAsync(data, cancellationToken));

    public Task CloseWriteAsync(CancellationToken cancellationToken) =>
        Translate(() => _stream.CloseStdinAsync(cancellationToken));

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (!_stream.Exited.IsCompleted)
        {
            try
            {
                await _stream.DetachAsync(CancellationToken.None); // CRX closes the connection
            }
            catch (Exception e) when (GuestErrors.Translate(e, _sandboxId) is not null)
            {
                // The guest is gone, and the connection with it.
            }
        }

        _incoming.Writer.TryComplete();
        await _pump;
    }

    private async Task PumpAsync()
    {
        try
        {
            await foreach (var chunk in _stream.Output.ReadAllAsync())
            {
                if (chunk.Data.Length > 0)
                {
                    await _incoming.Writer.WriteAsync(chunk.Data.Memory);
                }
            }

            _incoming.Writer.TryComplete();
        }
        catch (Exception e) when (e is ChannelClosedException || GuestErrors.Translate(e, _sandboxId) is not null)
        {
            _incoming.Writer.TryComplete();
        }
    }

    private Task Translate(Func<Task> call) => GuestErrors.GuardAsync(call, _sandboxId);
}
