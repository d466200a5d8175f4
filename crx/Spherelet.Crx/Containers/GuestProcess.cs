using Google.Protobuf;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Crx.Containers;

/// <summary>
/// A process CRX started (a container's main process or an exec): its pid, its stdin,
/// the pumps that copy its stdout and stderr to the CRI log and to the attached host, and
/// its exit, reported once all its output has been copied.
/// </summary>
internal sealed class GuestProcess
{
    private readonly CriLogWriter? _log;
    private readonly Func<Frame, Task> _send;
    private readonly TaskCompletionSource<ProcessExit> _exit = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Task> _pumps = [];
    private FileStream? _stdin;

    public GuestProcess(string containerId, string execId, ulong streamId, bool attached, CriLogWriter? log, Func<Frame, Task> send)
    {
        ContainerId = containerId;
        ExecId = execId;
        StreamId = streamId;
        Attached = attached;
        _log = log;
        _send = send;
    }

    public string ContainerId { get; }

    public string ExecId { get; }

    /// <summary>The id of the request that started it; its stdio frames and exit event carry it.</summary>
    public ulong StreamId { get; }

    public bool Attached { get; }

    public int Pid { get; set; }

    public long StartedAt { get; set; }

    public CriLogWriter? Log => _log;

    public Task<ProcessExit> Exit => _exit.Task;

    public bool HasExited => _exit.Task.IsCompleted;

    public void SetStdin(FileStream? stdin) => _stdin = stdin;

    public void StartPumps(FileStream stdout, FileStream stderr)
    {
        _pumps.Add(Task.Run(() => PumpAsync(stdout, StreamKind.Stdout, "stdout")));
        _pumps.Add(Task.Run(() => PumpAsync(stderr, StreamKind.Stderr, "stderr")));
    }

    public async Task WriteStdinAsync(ReadOnlyMemory<byte> data)
    {
        if (_stdin is { } stdin)
        {
            await stdin.WriteAsync(data);
            await stdin.FlushAsync();
        }
    }

    public void CloseStdin()
    {
        Interlocked.Exchange(ref _stdin, null)?.Dispose();
    }

    /// <summary>Records the exit once the output pumps have drained (at most a few seconds: a
    /// daemonized child may keep the pipes open), then tells the attached host.</summary>
    public async Task CompleteAsync(ProcessExit exit)
    {
        await Task.WhenAny(Task.WhenAll(_pumps), Task.Delay(TimeSpan.FromSeconds(2)));
        CloseStdin();
        _exit.TrySetResult(exit);
        if (Attached)
        {
            await _send(new Frame { Id = StreamId, Event = new Event { Exited = exit } });
        }
    }

    private async Task PumpAsync(FileStream source, StreamKind kind, string name)
    {
        var buffer = new byte[32 * 1024];
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
                    break;
                }

                if (read == 0)
                {
                    break;
                }

                _log?.Write(name, buffer.AsSpan(0, read));
                if (Attached)
                {
                    await _send(new Frame { Id = StreamId, Data = new StreamData { Kind = kind, Data = ByteString.CopyFrom(buffer, 0, read) } });
                }
            }
        }

        _log?.Close(name);
        if (Attached)
        {
            await _send(new Frame { Id = StreamId, Data = new StreamData { Kind = kind, Eof = true } });
        }
    }
}
