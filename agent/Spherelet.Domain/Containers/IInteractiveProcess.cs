using System.Threading.Channels;

namespace Spherelet.Domain.Containers;

/// <summary>
/// A process in a pod VM with its stdio attached to the host for a streaming session (exec or
/// attach): its output in order, its stdin, its terminal's size, its exit. Disposing ends the
/// session: an exec'd process that still runs is killed (it must not outlive its session),
/// an attached main process is only detached.
/// </summary>
public interface IInteractiveProcess : IAsyncDisposable
{
    /// <summary>Whether the process runs on a terminal (its stderr is then part of its stdout).</summary>
    bool Tty { get; }

    /// <summary>Output chunks in the order the guest read them; completes when the process has exited (or the session was detached).</summary>
    ChannelReader<ProcessOutput> Output { get; }

    /// <summary>The exit code (128 + the signal for a signalled process).</summary>
    Task<int> Exited { get; }

    Task WriteStdinAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>End of file on stdin (on a terminal: ^D).</summary>
    Task CloseStdinAsync(CancellationToken cancellationToken);

    /// <summary>Sets the terminal's window size; nothing happens without a terminal.</summary>
    Task ResizeAsync(uint columns, uint rows, CancellationToken cancellationToken);
}
