using System.Threading.Channels;
using Google.Protobuf;
using Spherelet.Crx.Native;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Containers;

/// <summary>
/// A process CRX started (a container's main process or an exec): its pid, its stdin,
/// the pumps that copy its output to the CRI log and to every attached host stream, its
/// terminal when it has one, and its exit, reported once all its output has been copied.
/// Each attached stream is flow controlled: output waits for the host's credit, and stdin the
/// host sends is queued and credited back once written to the process.
/// </summary>
internal sealed class GuestProcess
{
    private readonly CriLogLines? _log;
    private readonly Func<Frame, Task> _send;
    private readonly bool _stdinOnce;
    private readonly TaskCompletionSource<ProcessExit> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _pumps = [];
    private readonly Dictionary<ulong, StreamWindow> _streams = [];
    private readonly Channel<(ulong Stream, StreamData Data)> _stdinQueue = Channel.CreateBounded<(ulong, StreamData)>(
        new BoundedChannelOptions((StreamWindow.InitialBytes / 1024) + 16) { SingleReader = true });
    private readonly Lock _lock = new();
    private FileStream? _stdin;
    private int _terminal = -1;
    private volatile bool _isTerminal;
    private bool _completed;

    public GuestProcess(string containerId, string execId, bool stdinOnce, CriLogLines? log, Func<Frame, Task> send)
    {
        ContainerId = containerId;
        ExecId = execId;
        _stdinOnce = stdinOnce;
        _log = log;
        _send = send;
        _ = Task.Run(WriteStdinLoopAsync);
    }

    public string ContainerId { get; }

    public string ExecId { get; }

    public int Pid { get; set; }

    public long StartedAt { get; set; }

    /// <summary>When the process exited, on the monotonic clock (<see cref="System.Diagnostics.Stopwatch"/>); 0 while it runs.</summary>
    public long ExitedAtMonotonic { get; set; }

    public CriLogLines? Log => _log;

    public Task<ProcessExit> Exit => _exit.Task;

    public bool HasExited => _exit.Task.IsCompleted;

    /// <summary>True when the process runs on a pseudo-terminal.</summary>
    public bool HasTerminal => _isTerminal;

    /// <summary>Streams the process's output and exit to <paramref name="streamId"/> from now on.</summary>
    /// <returns>False when the process has already exited.</returns>
    public bool Attach(ulong streamId)
    {
        lock (_lock)
        {
            return !_completed && _streams.TryAdd(streamId, new StreamWindow());
        }
    }

    /// <summary>Stops streaming to <paramref name="streamId"/>; with stdin_once, stdin then gets end-of-file.</summary>
    public void Detach(ulong streamId)
    {
        bool removed;
        lock (_lock)
        {
            removed = _streams.Remove(streamId, out var window);
            window?.Close();
        }

        if (removed && _stdinOnce)
        {
            CloseStdinAfterQueued();
        }
    }

    public IReadOnlyList<ulong> Streams
    {
        get
        {
            lock (_lock)
            {
                return [.. _streams.Keys];
            }
        }
    }

    public void SetStdin(FileStream? stdin) => _stdin = stdin;

    public void StartPumps(FileStream stdout, FileStream stderr)
    {
        _pumps.Add(Task.Run(() => PumpAsync(stdout, StreamKind.Stdout)));
        _pumps.Add(Task.Run(() => PumpAsync(stderr, StreamKind.Stderr)));
        CompleteLogWhenDrained();
    }

    /// <summary>
    /// Runs the process's I/O over its terminal master: output (stdout and stderr, merged by
    /// the terminal) is read from <paramref name="output"/>; <paramref name="resizeFd"/> is a
    /// descriptor of the same master kept for window-size changes, owned from now on.
    /// </summary>
    public void StartTerminal(FileStream output, int resizeFd)
    {
        lock (_lock)
        {
            _terminal = resizeFd;
            _isTerminal = true;
        }

        _pumps.Add(Task.Run(() => PumpAsync(output, StreamKind.Stdout)));
        CompleteLogWhenDrained();
    }

    /// <summary>The log is over once every output stream has ended.</summary>
    private void CompleteLogWhenDrained()
    {
        if (_log is { } log)
        {
            _ = Task.WhenAll(_pumps).ContinueWith(_ => log.Spool.Complete(), TaskScheduler.Default);
        }
    }

    /// <summary>The host took <paramref name="bytes"/> more of this stream's output.</summary>
    public void Credit(ulong streamId, ulong bytes)
    {
        lock (_lock)
        {
            if (_streams.TryGetValue(streamId, out var window))
            {
                window.Give(bytes);
            }
        }
    }

    /// <summary>
    /// Queues what the host sent for stdin on <paramref name="streamId"/>: written in order by one
    /// writer, so CRX's channel never waits for a process that does not read its stdin. The host
    /// sends no more than its window; more is dropped.
    /// </summary>
    public void EnqueueStdin(ulong streamId, StreamData data)
    {
        if (!_stdinQueue.Writer.TryWrite((streamId, data)))
        {
            Guest.CrxLog.Warn($"stdin of {ContainerId}/{ExecId}: the host sent beyond its window; dropped");
        }
    }

    /// <summary>Closes stdin once what the host sent before is written (a close must not overtake queued input).</summary>
    public void CloseStdinAfterQueued()
    {
        if (!_stdinQueue.Writer.TryWrite((0, new StreamData { Kind = StreamKind.Stdin, Eof = true })))
        {
            CloseStdin();
        }
    }

    private async Task WriteStdinLoopAsync()
    {
        await foreach (var (stream, data) in _stdinQueue.Reader.ReadAllAsync())
        {
            if (!data.Data.IsEmpty)
            {
                await WriteStdinAsync(data.Data.Memory);
                await _send(new Frame { Id = stream, Credit = new StreamCredit { Bytes = (ulong)data.Data.Length } });
            }

            if (data.Eof)
            {
                CloseStdin();
            }
        }
    }

    public async Task WriteStdinAsync(ReadOnlyMemory<byte> data)
    {
        if (_stdin is { } stdin)
        {
            try
            {
                await stdin.WriteAsync(data);
                await stdin.FlushAsync();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // The process closed its stdin or exited: like a pipe whose reader is gone.
            }
        }
    }

    /// <summary>Closes stdin; on a terminal, sends end-of-file (^D) as a user typing it would.</summary>
    public void CloseStdin()
    {
        var stdin = Interlocked.Exchange(ref _stdin, null);
        if (stdin is null)
        {
            return;
        }

        if (HasTerminal)
        {
            try
            {
                stdin.Write([0x04]);
                stdin.Flush();
            }
            catch (IOException)
            {
            }
        }

        stdin.Dispose();
    }

    /// <summary>Sets the terminal's window size.</summary>
    /// <returns>False when the process has no terminal.</returns>
    public unsafe bool Resize(ushort columns, ushort rows)
    {
        lock (_lock)
        {
            if (!_isTerminal)
            {
                return false;
            }

            if (_completed || _terminal < 0)
            {
                return true; // Too late to matter; not an error (resizes race with exits).
            }

            var size = new WinSize { Rows = rows, Columns = columns };
            if (Sys.ioctl(_terminal, Sys.TIOCSWINSZ, &size) != 0)
            {
                throw new IOException("TIOCSWINSZ failed: " + Sys.LastError());
            }

            return true;
        }
    }

    /// <summary>Records the exit once the output pumps have drained (at most a few seconds: a
    /// daemonized child may keep the pipes open), then tells every attached stream.</summary>
    public async Task CompleteAsync(ProcessExit exit)
    {
        await Task.WhenAny(Task.WhenAll(_pumps), Task.Delay(TimeSpan.FromSeconds(2)));
        CloseStdin();
        ulong[] streams;
        lock (_lock)
        {
            _completed = true;
            streams = [.. _streams.Keys];
            if (_terminal >= 0)
            {
                Sys.close(_terminal);
                _terminal = -1;
            }
        }

        _exit.TrySetResult(exit);
        foreach (var stream in streams)
        {
            await _send(new Frame { Id = stream, Event = new Event { Exited = exit } });
        }
    }

    private StreamWindow? WindowOf(ulong streamId)
    {
        lock (_lock)
        {
            return _streams.GetValueOrDefault(streamId);
        }
    }

    private async Task PumpAsync(FileStream source, StreamKind kind)
    {
        var buffer = new byte[StreamWindow.MaxChunkBytes];
        using (source)
        {
            while (true)
            {
                int read;
                try
                {
                    read = await source.ReadAsync(buffer);
                }
                catch (IOException)
                {
                    break; // A terminal master reads EIO once the last slave is closed.
                }

                if (read == 0)
                {
                    break;
                }

                _log?.Write(kind, buffer.AsSpan(0, read));
                foreach (var stream in Streams)
                {
                    // Each attached host stream gets it once it has room; a detached one is skipped.
                    if (WindowOf(stream) is { } window && await window.TakeAsync(read, CancellationToken.None))
                    {
                        await _send(new Frame { Id = stream, Data = new StreamData { Kind = kind, Data = ByteString.CopyFrom(buffer, 0, read) } });
                    }
                }
            }
        }

        _log?.Close(kind);
        foreach (var stream in Streams)
        {
            await _send(new Frame { Id = stream, Data = new StreamData { Kind = kind, Eof = true } });
        }
    }
}
