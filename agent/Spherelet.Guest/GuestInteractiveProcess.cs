using System.Threading.Channels;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;
using Spherelet.Domain.Containers;

namespace Spherelet.Guest;

/// <summary>
/// A streaming session on a process in the guest (<see cref="CrxProcess"/>): output and exit from
/// CRX, stdin and resizes to it. Disposing kills an exec'd process that still runs and detaches
/// from a container's main process, which goes on.
/// </summary>
internal sealed class GuestInteractiveProcess : IInteractiveProcess
{
    private const int SigKill = 9;

    private readonly GuestConnection _connection;
    private readonly CrxProcess _process;
    private readonly string _sandboxId;
    private readonly bool _exec;
    // Bounded: a client that reads slowly stops the reading from CRX, whose stream then waits for credit.
    private readonly Channel<ProcessOutput> _output = Channel.CreateBounded<ProcessOutput>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });
    private readonly Task _pump;
    private int _disposed;

    public GuestInteractiveProcess(GuestConnection connection, CrxProcess process, string sandboxId, bool exec, bool tty)
    {
        _connection = connection;
        _process = process;
        _sandboxId = sandboxId;
        _exec = exec;
        Tty = tty;
        Exited = ExitCodeAsync();
        _pump = PumpAsync();
    }

    public bool Tty { get; }

    public ChannelReader<ProcessOutput> Output => _output.Reader;

    public Task<int> Exited { get; }

    public Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        Translate(() => _process.WriteStdinAsync(data, cancellationToken));

    public Task CloseStdinAsync(CancellationToken cancellationToken) =>
        Translate(() => _process.CloseStdinAsync(cancellationToken));

    public Task ResizeAsync(uint columns, uint rows, CancellationToken cancellationToken) =>
        Tty && columns > 0 && rows > 0 ? Translate(() => _process.ResizeAsync(columns, rows, cancellationToken)) : Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (!_process.Exited.IsCompleted)
        {
            try
            {
                if (_exec)
                {
                    await _connection.SignalAsync(_process.ContainerId, _process.ExecId, SigKill, CancellationToken.None);
                }
                else
                {
                    await _process.DetachAsync(CancellationToken.None);
                }
            }
            catch (Exception e) when (GuestErrors.Translate(e, _sandboxId) is not null)
            {
                // The guest is gone: so is the process, and nothing is left to detach.
            }
        }

        _output.Writer.TryComplete();
        await _pump;
    }

    private async Task PumpAsync()
    {
        try
        {
            await foreach (var chunk in _process.Output.ReadAllAsync())
            {
                if (chunk.Data.Length > 0)
                {
                    await _output.Writer.WriteAsync(new ProcessOutput(chunk.Kind == StreamKind.Stderr, chunk.Data.Memory));
                }
            }

            _output.Writer.TryComplete();
        }
        catch (Exception e) when (e is ChannelClosedException || GuestErrors.Translate(e, _sandboxId) is not null)
        {
            _output.Writer.TryComplete(e is ChannelClosedException ? null : GuestErrors.Translate(e, _sandboxId));
        }
    }

    private Task<int> ExitCodeAsync() => GuestErrors.GuardAsync(async () => (await _process.Exited).ExitCode, _sandboxId);

    private Task Translate(Func<Task> call) => GuestErrors.GuardAsync(call, _sandboxId);
}
