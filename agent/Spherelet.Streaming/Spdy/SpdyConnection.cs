using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Spherelet.Streaming.Spdy;

/// <summary>
/// The server side of a SPDY/3.1 session over a duplex stream (the connection after its HTTP/1.1 101 upgrade),
/// as Kubernetes clients speak it through moby/spdystream. It reads frames from the moment it is made: streams
/// the client opens (odd ids) come out of <see cref="AcceptStreamAsync"/> with their headers; PINGs are
/// answered; RST_STREAM ends a stream; after GOAWAY no new stream is taken. Received data is given back to the
/// peer's windows with WINDOW_UPDATE as it is read; sent data keeps to the peer's windows as
/// <see cref="SpdyConnectionOptions.SendFlowControl"/> says. When the peer closes the transport, or on
/// <see cref="DisposeAsync"/>, every stream's reads end and its writes fail. The connection owns the transport.
/// </summary>
public sealed class SpdyConnection : IAsyncDisposable
{
    /// <summary>The window of every stream and of the session until the peer says otherwise (SPDY/3.1).</summary>
    public const int InitialWindowSize = 64 * 1024;

    /// <summary>Received bytes read by the application before they are given back with a WINDOW_UPDATE.</summary>
    internal const int WindowUpdateThreshold = InitialWindowSize / 2;

    private static readonly TimeSpan GoAwayTimeout = TimeSpan.FromSeconds(1);

    private readonly Stream _transport;
    private readonly SpdyConnectionOptions _options;
    private readonly SpdyFrameReader _reader;
    private readonly SpdyFrameWriter _writer;
    private readonly Channel<SpdyStream> _incoming = Channel.CreateUnbounded<SpdyStream>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly ConcurrentDictionary<uint, SpdyStream> _streams = new();
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _flowLock = new();
    private readonly Task _readLoop;
    private TaskCompletionSource _windowChanged = NewSignal();
    private long _sessionSendWindow = InitialWindowSize;
    private long _initialStreamSendWindow = InitialWindowSize;
    private bool _peerUsesFlowControl;
    private int _sessionUnacknowledged;
    private uint _lastStreamId;
    private volatile bool _remoteWentAway;
    private int _closed;
    private int _disposed;

    /// <summary>Starts the session: frames are read from <paramref name="transport"/> from now on.</summary>
    public SpdyConnection(Stream transport, SpdyConnectionOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(transport);
        _options = options ?? new SpdyConnectionOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxDataFrameLength, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(_options.MaxDataFrameLength, SpdyFrame.MaxLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.MaxBufferedBytesPerStream, 1);
        _transport = transport;
        _reader = new SpdyFrameReader(transport, _options.MaxFrameLength);
        _writer = new SpdyFrameWriter(transport);
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>Completes (never faults) when the session has ended: the peer closed the transport, broke the protocol, or the connection was disposed.</summary>
    public Task Completion => _readLoop;

    internal int MaxDataFrameLength => _options.MaxDataFrameLength;

    internal int MaxBufferedBytesPerStream => _options.MaxBufferedBytesPerStream;

    private bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>The next stream the peer opened; null once no more will come (GOAWAY from the peer, or the session ended).</summary>
    public async ValueTask<SpdyStream?> AcceptStreamAsync(CancellationToken cancellationToken = default)
    {
        while (await _incoming.Reader.WaitToReadAsync(cancellationToken))
        {
            if (_incoming.Reader.TryRead(out var stream))
            {
                return stream;
            }
        }

        return null;
    }

    /// <summary>Sends GOAWAY (waiting a second at most), closes the transport and ends every stream.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            if (!IsClosed)
            {
                await TrySendGoAwayAsync(SpdyGoAwayStatus.Ok);
            }

            Close();
            await _readLoop;
            _writer.Dispose();
            _closing.Dispose();
        }

        await _readLoop;
    }

    /// <summary>Writes a frame; an <see cref="IOException"/> when the session is over or the transport fails (which ends the session).</summary>
    internal async Task SendAsync(SpdyFrame frame, CancellationToken cancellationToken)
    {
        if (IsClosed)
        {
            throw new IOException("The SPDY connection is closed.");
        }

        try
        {
            await _writer.WriteAsync(frame, cancellationToken);
            if (frame is SpdyDataFrame)
            {
                _options.OnActivity?.Invoke();
            }
        }
        catch (ObjectDisposedException e)
        {
            Close();
            throw new IOException("The SPDY connection is closed.", e);
        }
        catch (IOException)
        {
            Close();
            throw;
        }
    }

    /// <summary>Takes up to <paramref name="wanted"/> bytes of the stream's and the session's send windows, waiting for some where they bind.</summary>
    internal async ValueTask<int> ReserveSendWindowAsync(SpdyStream stream, int wanted, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_flowLock)
            {
                stream.ThrowIfBroken();
                var binding = _options.SendFlowControl switch
                {
                    SpdySendFlowControl.Always => true,
                    SpdySendFlowControl.Never => false,
                    _ => _peerUsesFlowControl,
                };
                var available = Math.Min(stream.SendWindow, _sessionSendWindow);
                if (!binding || available > 0)
                {
                    var granted = binding ? (int)Math.Min(wanted, available) : wanted;
                    stream.SendWindow -= granted;
                    _sessionSendWindow -= granted;
                    return granted;
                }

                changed = _windowChanged.Task;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>The application read <paramref name="consumed"/> bytes of the stream; <paramref name="streamAcknowledge"/> of them go back to the stream's window now.</summary>
    internal void OnConsumed(SpdyStream stream, int consumed, int streamAcknowledge)
    {
        if (streamAcknowledge > 0 && !IsClosed)
        {
            SendInBackground(new SpdyWindowUpdateFrame(stream.Id, (uint)streamAcknowledge));
        }

        OnDiscarded(consumed);
    }

    /// <summary>Received bytes are done with (read, or dropped unread): they go back to the session window.</summary>
    internal void OnDiscarded(int count)
    {
        if (count <= 0 || Interlocked.Add(ref _sessionUnacknowledged, count) < WindowUpdateThreshold)
        {
            return;
        }

        var acknowledge = Interlocked.Exchange(ref _sessionUnacknowledged, 0);
        if (acknowledge > 0 && !IsClosed)
        {
            SendInBackground(new SpdyWindowUpdateFrame(0, (uint)acknowledge));
        }
    }

    /// <summary>The stream was reset: it is forgotten and its blocked writes wake up to fail.</summary>
    internal void OnStreamEnded(SpdyStream stream)
    {
        _streams.TryRemove(new KeyValuePair<uint, SpdyStream>(stream.Id, stream));
        SignalWindows();
    }

    /// <summary>Forgets the stream once both halves are closed.</summary>
    internal void ForgetIfDone(SpdyStream stream)
    {
        if (stream.IsDone)
        {
            _streams.TryRemove(new KeyValuePair<uint, SpdyStream>(stream.Id, stream));
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task ReadLoopAsync()
    {
        bool protocolError = false, internalError = false;
        try
        {
            while (await _reader.ReadFrameAsync(_closing.Token) is { } frame)
            {
                await HandleAsync(frame);
            }
        }
        catch (SpdyProtocolException)
        {
            protocolError = true;
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The peer went away or the connection was disposed: the end of the session, not an error.
        }
#pragma warning disable CA1031 // The read loop runs detached: whatever else stops it ends the session, and nothing is left to throw to.
        catch (Exception)
        {
            internalError = true;
        }
#pragma warning restore CA1031

        if ((protocolError || internalError) && !IsClosed)
        {
            await TrySendGoAwayAsync(protocolError ? SpdyGoAwayStatus.ProtocolError : SpdyGoAwayStatus.InternalError);
        }

        Close();
    }

    private async ValueTask HandleAsync(SpdyFrame frame)
    {
        switch (frame)
        {
            case SpdyDataFrame data:
                _options.OnActivity?.Invoke();
                if (_streams.TryGetValue(data.StreamId, out var target))
                {
                    await target.OnDataAsync(data.Data, data.Fin, _closing.Token);
                }
                else
                {
                    OnDiscarded(data.Data.Length);
                }

                break;

            case SpdySynStreamFrame syn:
                _options.OnActivity?.Invoke();
                await OnSynStreamAsync(syn);
                break;

            case SpdyRstStreamFrame rst:
                if (_streams.TryGetValue(rst.StreamId, out var reset))
                {
                    reset.OnRemoteReset(rst.Status);
                }

                break;

            case SpdyHeadersFrame headers when headers.Flags.HasFlag(SpdyControlBits.Fin):
                if (_streams.TryGetValue(headers.StreamId, out var finished))
                {
                    await finished.OnRemoteFinAsync();
                }

                break;

            case SpdyPingFrame ping when (ping.Id & 1) == 1:
                // Odd ids are the client's own pings; even ones would answer ours, and this side sends none.
                await SendAsync(ping, _closing.Token);
                break;

            case SpdyGoAwayFrame:
                _remoteWentAway = true;
                _incoming.Writer.TryComplete();
                break;

            case SpdySettingsFrame settings:
                OnSettings(settings);
                break;

            case SpdyWindowUpdateFrame update:
                OnWindowUpdate(update);
                break;

            default:
                // SYN_REPLY (this side opens no streams) and HEADERS without FIN change nothing here.
                break;
        }
    }

    private async ValueTask OnSynStreamAsync(SpdySynStreamFrame syn)
    {
        if ((syn.StreamId & 1) == 0 || syn.StreamId <= _lastStreamId)
        {
            await SendAsync(new SpdyRstStreamFrame(syn.StreamId, SpdyStreamStatus.ProtocolError), _closing.Token);
            return;
        }

        Volatile.Write(ref _lastStreamId, syn.StreamId);
        if (_remoteWentAway || Volatile.Read(ref _disposed) != 0)
        {
            await SendAsync(new SpdyRstStreamFrame(syn.StreamId, SpdyStreamStatus.RefusedStream), _closing.Token);
            return;
        }

        SpdyStream stream;
        lock (_flowLock)
        {
            stream = new SpdyStream(this, syn, _initialStreamSendWindow);
            if (!stream.IsDone)
            {
                _streams[syn.StreamId] = stream;
            }
        }

        if (!_incoming.Writer.TryWrite(stream))
        {
            _streams.TryRemove(syn.StreamId, out _);
            await SendAsync(new SpdyRstStreamFrame(syn.StreamId, SpdyStreamStatus.RefusedStream), _closing.Token);
        }
    }

    private void OnSettings(SpdySettingsFrame settings)
    {
        var changed = false;
        lock (_flowLock)
        {
            foreach (var setting in settings.Settings)
            {
                if (setting.Id != SpdySettingId.InitialWindowSize || setting.Value > int.MaxValue)
                {
                    continue;
                }

                // A new initial window moves every open stream's window by the difference.
                var delta = setting.Value - _initialStreamSendWindow;
                _initialStreamSendWindow = setting.Value;
                foreach (var stream in _streams.Values)
                {
                    stream.SendWindow += delta;
                }

                _peerUsesFlowControl = true;
                changed = true;
            }
        }

        if (changed)
        {
            SignalWindows();
        }
    }

    private void OnWindowUpdate(SpdyWindowUpdateFrame update)
    {
        lock (_flowLock)
        {
            _peerUsesFlowControl = true;
            if (update.StreamId == 0)
            {
                _sessionSendWindow += update.Delta;
            }
            else if (_streams.TryGetValue(update.StreamId, out var stream))
            {
                stream.SendWindow += update.Delta;
            }
        }

        SignalWindows();
    }

    private void SignalWindows()
    {
        TaskCompletionSource changed;
        lock (_flowLock)
        {
            changed = _windowChanged;
            _windowChanged = NewSignal();
        }

        changed.TrySetResult();
    }

    private void SendInBackground(SpdyFrame frame) => _ = SendQuietlyAsync(frame);

    private async Task SendQuietlyAsync(SpdyFrame frame)
    {
        try
        {
            await SendAsync(frame, CancellationToken.None);
        }
        catch (IOException)
        {
            // The session is over; there is nobody left to tell.
        }
    }

    private async Task TrySendGoAwayAsync(SpdyGoAwayStatus status)
    {
        using var timeout = new CancellationTokenSource(GoAwayTimeout);
        var write = _writer.WriteAsync(new SpdyGoAwayFrame(Volatile.Read(ref _lastStreamId), status), timeout.Token);
        try
        {
            await write.WaitAsync(timeout.Token);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // A peer that does not read gets no GOAWAY; the transport is closed all the same.
        }

        // A write still under way fails when the transport closes; its exception is observed here.
        _ = write.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Ends the session once: no more streams, every stream's reads end and writes fail, the transport closes.</summary>
    private void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _incoming.Writer.TryComplete();
        while (_incoming.Reader.TryRead(out var unaccepted))
        {
            unaccepted.OnConnectionClosed();
        }

        foreach (var stream in _streams.Values)
        {
            stream.OnConnectionClosed();
        }

        _streams.Clear();
        SignalWindows();
        _closing.Cancel();
        _transport.Dispose();
    }
}
