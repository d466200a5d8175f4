using System.Diagnostics.CodeAnalysis;

namespace Spherelet.Streaming.Spdy;

/// <summary>
/// One stream the peer opened on a <see cref="SpdyConnection"/>: its headers, the data the peer sends on it
/// (read with <see cref="ReadAsync"/> until it returns 0, after the peer's FIN, a reset or the end of the
/// connection) and what this side sends back: <see cref="ReplyAsync"/> first, then <see cref="WriteAsync"/>
/// and <see cref="CloseWriteAsync"/>, or <see cref="ResetAsync"/> at any time. One reader at a time; writes
/// may come from several tasks and go out in call order.
/// </summary>
[SuppressMessage("Naming", "CA1711:Identifiers should not have incorrect suffix", Justification = "A SPDY stream is the protocol's own name for it.")]
[SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable", Justification = "The write lock never hands out its wait handle, the one thing a SemaphoreSlim must dispose.")]
public sealed class SpdyStream
{
    private readonly SpdyConnection _connection;
    private readonly Lock _gate = new();
    private readonly Queue<ReadOnlyMemory<byte>> _received = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private int _headOffset;
    private int _buffered;
    private int _unacknowledged;
    private bool _remoteClosed;
    private bool _finReceived;
    private volatile bool _localClosed;
    private volatile bool _replied;
    private volatile bool _connectionClosed;
    private SpdyStreamStatus? _resetStatus;
    private TaskCompletionSource? _dataArrived;
    private TaskCompletionSource? _spaceFreed;

    internal SpdyStream(SpdyConnection connection, SpdySynStreamFrame syn, long sendWindow)
    {
        _connection = connection;
        Id = syn.StreamId;
        Headers = syn.Headers;
        Priority = syn.Priority;
        SendWindow = sendWindow;
        _remoteClosed = syn.Flags.HasFlag(SpdyControlBits.Fin);
        _localClosed = syn.Flags.HasFlag(SpdyControlBits.Unidirectional);
    }

    /// <summary>The stream id (odd: the client opened it).</summary>
    public uint Id { get; }

    /// <summary>The headers of the SYN_STREAM, e.g. <c>streamtype</c>, <c>port</c> and <c>requestid</c> from Kubernetes.</summary>
    public SpdyHeaders Headers { get; }

    /// <summary>The priority the peer gave, 0 (highest) to 7.</summary>
    public byte Priority { get; }

    /// <summary>The status of the RST_STREAM that ended the stream, from either side; null while it was not reset.</summary>
    public SpdyStreamStatus? ResetStatus
    {
        get
        {
            lock (_gate)
            {
                return _resetStatus;
            }
        }
    }

    /// <summary>How much this side may still send before the peer's next WINDOW_UPDATE; held under the connection's flow lock.</summary>
    internal long SendWindow { get; set; }

    /// <summary>Both halves are closed, or the stream was reset: the connection can forget it.</summary>
    internal bool IsDone
    {
        get
        {
            lock (_gate)
            {
                return _resetStatus is not null || (_remoteClosed && _localClosed);
            }
        }
    }

    /// <summary>Reads what the peer sent next, waiting for it; 0 once the peer sent FIN, the stream was reset or the connection ended.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task? arrived = null;
            int read, acknowledge;
            lock (_gate)
            {
                read = TakeReceived(buffer.Span, out acknowledge);
                if (read == 0 && !buffer.IsEmpty && !_remoteClosed)
                {
                    _dataArrived ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    arrived = _dataArrived.Task;
                }
            }

            if (arrived is null)
            {
                if (read > 0)
                {
                    _connection.OnConsumed(this, read, acknowledge);
                }

                return read;
            }

            await arrived.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Accepts the stream: sends SYN_REPLY with the headers (none by default). Once, before any write.</summary>
    public async Task ReplyAsync(SpdyHeaders? headers = null, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (_replied)
            {
                throw new InvalidOperationException($"Stream {Id} was already replied to.");
            }

            ThrowIfBroken();
            await _connection.SendAsync(new SpdySynReplyFrame(Id, headers ?? []), cancellationToken);
            _replied = true;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Sends the data in DATA frames, each no longer than the connection allows, waiting for window where the
    /// connection keeps to the peer's flow control.
    /// </summary>
    /// <exception cref="InvalidOperationException">The stream was not replied to, or this side already closed it.</exception>
    /// <exception cref="IOException">The stream was reset or the connection ended.</exception>
    public async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            ThrowIfNotWritable();
            while (!data.IsEmpty)
            {
                var wanted = Math.Min(data.Length, _connection.MaxDataFrameLength);
                var granted = await _connection.ReserveSendWindowAsync(this, wanted, cancellationToken);

                // Window once taken is spent: the frame goes out whatever the token says now.
                await _connection.SendAsync(new SpdyDataFrame(Id, data[..granted]), CancellationToken.None);
                data = data[granted..];
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Ends this side of the stream (an empty DATA frame with FIN) after the writes before it. Nothing happens when
    /// this side already closed it, or when the stream was reset or the connection ended: nothing is left to close.
    /// </summary>
    public async Task CloseWriteAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            if (_localClosed || _connectionClosed || ResetStatus is not null)
            {
                return;
            }

            if (!_replied)
            {
                throw new InvalidOperationException($"Stream {Id} must be replied to before it is closed.");
            }

            await _connection.SendAsync(new SpdyDataFrame(Id, ReadOnlyMemory<byte>.Empty, Fin: true), cancellationToken);
            _localClosed = true;
        }
        finally
        {
            _writeLock.Release();
        }

        _connection.ForgetIfDone(this);
    }

    /// <summary>Ends the stream both ways at once with RST_STREAM: reads end, unread data is dropped, writes fail.</summary>
    public async Task ResetAsync(SpdyStreamStatus status = SpdyStreamStatus.Cancel, CancellationToken cancellationToken = default)
    {
        if (!EndByReset(status) || _connectionClosed)
        {
            return;
        }

        await _connection.SendAsync(new SpdyRstStreamFrame(Id, status), cancellationToken);
    }

    /// <summary>Data from the peer (read loop). Waits while the stream holds more unread data than allowed.</summary>
    internal async ValueTask OnDataAsync(ReadOnlyMemory<byte> data, bool fin, CancellationToken cancellationToken)
    {
        if (!TryEnqueue(data, fin, out var space))
        {
            // After FIN or a reset: nothing of it is read, so it is given back to the session at once.
            _connection.OnDiscarded(data.Length);
            return;
        }

        if (fin)
        {
            _connection.ForgetIfDone(this);
        }

        if (space is not null)
        {
            await space.WaitAsync(cancellationToken);
        }
    }

    /// <summary>A FIN without data (HEADERS with FIN; read loop).</summary>
    internal ValueTask OnRemoteFinAsync() => OnDataAsync(ReadOnlyMemory<byte>.Empty, fin: true, CancellationToken.None);

    /// <summary>The peer reset the stream (read loop).</summary>
    internal void OnRemoteReset(SpdyStreamStatus status) => EndByReset(status);

    /// <summary>
    /// Whether the peer finished its side with FIN (not: the stream was reset or the connection
    /// ended, which end reads too): a remote command takes only this as the end of stdin.
    /// </summary>
    public bool FinReceived
    {
        get
        {
            lock (_gate)
            {
                return _finReceived;
            }
        }
    }

    /// <summary>The connection ended: reads end, writes fail.</summary>
    internal void OnConnectionClosed()
    {
        _connectionClosed = true;
        EndReads(out _);
    }

    /// <summary>Throws when writes can no longer go out (the connection's flow lock calls it too).</summary>
    internal void ThrowIfBroken()
    {
        if (_connectionClosed)
        {
            throw new IOException("The SPDY connection is closed.");
        }

        var status = ResetStatus;
        if (status is not null)
        {
            throw new IOException($"SPDY stream {Id} was reset ({status}).");
        }
    }

    private void ThrowIfNotWritable()
    {
        if (!_replied)
        {
            throw new InvalidOperationException($"Stream {Id} must be replied to before data is written.");
        }

        if (_localClosed)
        {
            throw new InvalidOperationException($"Stream {Id} is closed for writing.");
        }

        ThrowIfBroken();
    }

    /// <summary>Queues data for the reader; false when the stream takes no more. <paramref name="space"/> is what to wait for before more.</summary>
    private bool TryEnqueue(ReadOnlyMemory<byte> data, bool fin, out Task? space)
    {
        space = null;
        lock (_gate)
        {
            if (_remoteClosed)
            {
                return false;
            }

            if (!data.IsEmpty)
            {
                _received.Enqueue(data);
                _buffered += data.Length;
            }

            _remoteClosed = fin;
            _finReceived = fin;
            _dataArrived?.TrySetResult();
            _dataArrived = null;
            if (!fin && _buffered > _connection.MaxBufferedBytesPerStream)
            {
                _spaceFreed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                space = _spaceFreed.Task;
            }

            return true;
        }
    }

    /// <summary>Copies received data out (under the gate); <paramref name="acknowledge"/> is the stream window to give back now.</summary>
    private int TakeReceived(Span<byte> buffer, out int acknowledge)
    {
        acknowledge = 0;
        var read = 0;
        while (read < buffer.Length && _received.Count > 0)
        {
            var chunk = _received.Peek().Span[_headOffset..];
            var count = Math.Min(chunk.Length, buffer.Length - read);
            chunk[..count].CopyTo(buffer[read..]);
            read += count;
            _headOffset += count;
            if (_headOffset == _received.Peek().Length)
            {
                _received.Dequeue();
                _headOffset = 0;
            }
        }

        if (read == 0)
        {
            return 0;
        }

        _buffered -= read;
        if (_buffered <= _connection.MaxBufferedBytesPerStream)
        {
            _spaceFreed?.TrySetResult();
            _spaceFreed = null;
        }

        // The peer needs more window only while it may still send.
        if (!_remoteClosed)
        {
            _unacknowledged += read;
            if (_unacknowledged >= SpdyConnection.WindowUpdateThreshold)
            {
                acknowledge = _unacknowledged;
                _unacknowledged = 0;
            }
        }

        return read;
    }

    private bool EndByReset(SpdyStreamStatus status)
    {
        lock (_gate)
        {
            if (_resetStatus is not null)
            {
                return false;
            }

            _resetStatus = status;
        }

        EndReads(out var dropped);
        _connection.OnDiscarded(dropped);
        _connection.OnStreamEnded(this);
        return true;
    }

    private void EndReads(out int dropped)
    {
        lock (_gate)
        {
            dropped = _buffered;
            _received.Clear();
            _headOffset = 0;
            _buffered = 0;
            _remoteClosed = true;
            _dataArrived?.TrySetResult();
            _dataArrived = null;
            _spaceFreed?.TrySetResult();
            _spaceFreed = null;
        }
    }
}
