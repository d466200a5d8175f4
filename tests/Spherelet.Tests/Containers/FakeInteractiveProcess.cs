using System.Threading.Channels;
using Spherelet.Domain.Containers;

namespace Spherelet.Tests.Containers;

/// <summary>A session on a process that has already exited with 0 and printed nothing.</summary>
internal sealed class FakeInteractiveProcess : IInteractiveProcess
{
    private readonly Channel<ProcessOutput> _output = Channel.CreateUnbounded<ProcessOutput>();

    public FakeInteractiveProcess(bool tty)
    {
        Tty = tty;
        _output.Writer.Complete();
    }

    public bool Tty { get; }

    public ChannelReader<ProcessOutput> Output => _output.Reader;

    public Task<int> Exited { get; } = Task.FromResult(0);

    public Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task CloseStdinAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ResizeAsync(uint columns, uint rows, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
