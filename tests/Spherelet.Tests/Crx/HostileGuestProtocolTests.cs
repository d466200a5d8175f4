using System.Buffers.Binary;
using System.Net.Sockets;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;
using Spherelet.Domain.Errors;
using Spherelet.Guest;

namespace Spherelet.Tests.Crx;

/// <summary>
/// The host's side of the channel against a guest that is not CRX: it floods a stream, never
/// answers, lies in its answers or sends frames no CRX sends. Each costs the host a bounded
/// amount of memory and time, and that pod only. The guest end is played by the test.
/// </summary>
public sealed class HostileGuestProtocolTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_guest_that_streams_past_the_window_loses_that_stream_and_the_channel_goes_on()
    {
        using var pair = await SocketPair.CreateAsync();
        var guest = new ScriptedGuest(pair.Guest);
        await using var client = await CrxClient.ConnectAsync(pair.Host, "test", CancellationToken.None);
        var exec = await client.ExecAsync(new ExecProcess { ContainerId = "c", ExecId = "flood" }, CancellationToken.None);

        // The guest sends without waiting for credit; the host reads nothing meanwhile.
        var chunk = new byte[StreamWindow.MaxChunkBytes];
        for (var i = 0; i < (StreamWindow.InitialBytes / chunk.Length) + 4; i++)
        {
            await guest.SendAsync(new Frame { Id = guest.Execs[0], Data = new StreamData { Kind = StreamKind.Stdout, Data = ByteString.CopyFrom(chunk) } });
        }

        // Nothing was read, so nothing was credited: past the window, the stream is failed.
        await WaitUntilAsync(() => exec.Exited.IsCompleted);
        long delivered = 0;
        var error = await Assert.ThrowsAsync<CrxCallException>(async () =>
        {
            await foreach (var data in exec.Output.ReadAllAsync(new CancellationTokenSource(Patience).Token))
            {
                delivered += data.Data.Length;
            }
        });

        Assert.Contains("window", error.Message, StringComparison.Ordinal);
        Assert.True(delivered <= StreamWindow.InitialBytes, $"{delivered} bytes held for the stream");
        await WaitUntilAsync(() => guest.Detached.Contains(guest.Execs[0]));
        Assert.True((await client.PingAsync(new CancellationTokenSource(Patience).Token)) > TimeSpan.Zero, "the channel still answers");
    }

    [Fact]
    public async Task Output_is_credited_as_the_host_reads_it_so_a_guest_that_keeps_to_the_window_streams_any_amount()
    {
        using var pair = await SocketPair.CreateAsync();
        var guest = new ScriptedGuest(pair.Guest);
        await using var client = await CrxClient.ConnectAsync(pair.Host, "test", CancellationToken.None);
        var exec = await client.ExecAsync(new ExecProcess { ContainerId = "c", ExecId = "honest" }, CancellationToken.None);
        const int Total = 4 * 1024 * 1024;

        var sending = guest.SendWithinWindowAsync(guest.Execs[0], Total);
        var (stdout, _, exit) = await exec.CollectAsync(new CancellationTokenSource(Patience * 3).Token);
        var mostOutstanding = await sending;

        Assert.Equal(Total, stdout.Length);
        Assert.Equal(0, exit.ExitCode);
        Assert.True(mostOutstanding <= StreamWindow.InitialBytes, $"{mostOutstanding} bytes were outstanding at most");
    }

    [Fact]
    public async Task A_guest_that_sends_log_past_the_window_without_acknowledgements_loses_that_log_stream()
    {
        using var pair = await SocketPair.CreateAsync();
        var guest = new ScriptedGuest(pair.Guest);
        await using var client = await CrxClient.ConnectAsync(pair.Host, "test", CancellationToken.None);
        const uint Window = 256 * 1024;
        await using var log = await client.FollowLogAsync("c", Window, CancellationToken.None);

        // Entries of 60 KiB, never waiting for an acknowledgement; the host acknowledges nothing.
        var line = ByteString.CopyFrom(new byte[60 * 1024]);
        for (ulong i = 1; i <= 8; i++)
        {
            await guest.SendAsync(new Frame { Id = guest.Execs[0], Log = new LogBatch { Entries = { new LogEntry { Sequence = i, TimeUnixNanos = (long)i, Stream = StreamKind.Stdout, Content = line } } } });
        }

        long held = 0;
        var error = await Assert.ThrowsAsync<CrxCallException>(async () =>
        {
            await foreach (var batch in log.Batches.ReadAllAsync(new CancellationTokenSource(Patience).Token))
            {
                held += batch.Entries.Sum(e => e.Content.Length);
            }
        });

        Assert.Contains("not acknowledged", error.Message, StringComparison.Ordinal);
        Assert.True(held <= Window + (64 * 1024), $"{held} bytes of log held");
    }

    [Fact]
    public async Task Stdin_goes_no_further_than_the_guests_window_until_it_credits_what_it_took()
    {
        using var pair = await SocketPair.CreateAsync();
        var guest = new ScriptedGuest(pair.Guest);
        await using var client = await CrxClient.ConnectAsync(pair.Host, "test", CancellationToken.None);
        var exec = await client.ExecAsync(new ExecProcess { ContainerId = "c", ExecId = "stdin" }, CancellationToken.None);

        var writing = exec.WriteStdinAsync(new byte[2 * StreamWindow.InitialBytes], CancellationToken.None);
        await WaitUntilAsync(() => guest.StdinBytes >= StreamWindow.InitialBytes);
        await Task.Delay(200);

        Assert.False(writing.IsCompleted, "the host waits for credit");
        Assert.Equal(StreamWindow.InitialBytes, guest.StdinBytes);
        await guest.SendAsync(new Frame { Id = guest.Execs[0], Credit = new StreamCredit { Bytes = (ulong)StreamWindow.InitialBytes } });
        await writing.WaitAsync(Patience);
        await WaitUntilAsync(() => guest.StdinBytes == 2 * StreamWindow.InitialBytes);
    }

    [Fact]
    public async Task A_frame_no_crx_sends_closes_the_channel_without_reading_it()
    {
        using var pair = await SocketPair.CreateAsync();
        var guest = new ScriptedGuest(pair.Guest);
        await using var client = await CrxClient.ConnectAsync(pair.Host, "test", CancellationToken.None);
        var pending = client.CallAsync(new Request { Stats = new GetStats() }, CancellationToken.None);

        // A length prefix of 2 GiB: the host must neither allocate it nor wait for it.
        var header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, int.MaxValue);
        await guest.SendRawAsync(header);

        await client.Closed.WaitAsync(Patience);
        await Assert.ThrowsAsync<CrxConnectionLostException>(() => pending.WaitAsync(Patience));
    }

    [Fact]
    public async Task A_guest_that_answers_pings_but_no_call_costs_a_call_its_deadline()
    {
        var directory = Directory.CreateTempSubdirectory("crx-mute-").FullName;
        var path = Path.Combine(directory, "crx.sock");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen();
        var serving = Task.Run(async () =>
        {
            using var socket = await listener.AcceptAsync();
            using var stream = new NetworkStream(socket, ownsSocket: false);
            var guest = new ScriptedGuest(stream) { AnswerCalls = false };
            await guest.Done;
        });
        var options = new GuestChannelOptions { ConnectTimeout = Patience, CallTimeout = TimeSpan.FromMilliseconds(300), HostVersion = "test" };
        await using var connections = new GuestConnections(options, NullLogger<GuestConnections>.Instance);
        var connection = await connections.GetAsync("pod-mute", path, CancellationToken.None);

        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var error = await Assert.ThrowsAsync<GuestUnavailableException>(() => connection.StatsAsync([], CancellationToken.None));

        Assert.Contains("did not answer Stats within 0.3 s", error.Message, StringComparison.Ordinal);
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < Patience);
        Assert.True(await connection.PingAsync(CancellationToken.None) > TimeSpan.Zero, "the guest still answers pings");
        Directory.Delete(directory, recursive: true);
    }

    [Fact]
    public async Task Statistics_that_name_a_container_twice_or_one_not_asked_for_fail_that_pod_only()
    {
        var stats = new CgroupStats { CpuUsageNs = 1, MemoryUsageBytes = 2 };
        var twice = new StatsReply { Vm = stats, Containers = { new ContainerStats { ContainerId = "a", Stats = stats }, new ContainerStats { ContainerId = "a", Stats = stats } } };
        var stranger = new StatsReply { Vm = stats, Containers = { new ContainerStats { ContainerId = "b", Stats = stats } } };

        var duplicate = await Assert.ThrowsAsync<GuestOperationFailedException>(() => StatsFromAsync(twice, ["a"]));
        var unasked = await Assert.ThrowsAsync<GuestOperationFailedException>(() => StatsFromAsync(stranger, ["a"]));

        Assert.Contains("'a' twice", duplicate.Message, StringComparison.Ordinal);
        Assert.Contains("'b', which was not asked for", unasked.Message, StringComparison.Ordinal);
    }

    /// <summary>GetStats through the agent's guest layer against a guest that answers <paramref name="reply"/>.</summary>
    private static async Task<Spherelet.Domain.Containers.PodUsage> StatsFromAsync(StatsReply reply, IReadOnlyCollection<string> containerIds)
    {
        var directory = Directory.CreateTempSubdirectory("crx-liar-").FullName;
        var path = Path.Combine(directory, "crx.sock");
        try
        {
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen();
            _ = Task.Run(async () =>
            {
                using var socket = await listener.AcceptAsync();
                using var stream = new NetworkStream(socket, ownsSocket: false);
                await new ScriptedGuest(stream) { Stats = reply }.Done;
            });
            await using var connections = new GuestConnections(new GuestChannelOptions { ConnectTimeout = Patience, HostVersion = "test" }, NullLogger<GuestConnections>.Instance);
            var endpoints = new Spherelet.Domain.Vmm.GuestEndpoints();
            endpoints.Register("pod-liar", new Spherelet.Domain.Vmm.GuestEndpoint(path));
            return await new GuestContainers(connections, endpoints).StatsAsync("pod-liar", containerIds, CancellationToken.None);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10);
        }
    }

    /// <summary>The guest end of a channel, played frame by frame: it answers Hello, Ping and Exec (unless told not to answer calls) and records what it gets.</summary>
    private sealed class ScriptedGuest
    {
        private readonly Stream _stream;
        private readonly FrameWriter _writer;
        private readonly Lock _gate = new();
        private readonly List<ulong> _execs = [];
        private readonly List<ulong> _detached = [];
        private long _stdinBytes;
        private long _credit;

        public ScriptedGuest(Stream stream)
        {
            _stream = stream;
            _writer = new FrameWriter(stream);
            Done = Task.Run(ServeAsync);
        }

        public bool AnswerCalls { get; init; } = true;

        /// <summary>The answer to GetStats; none when null.</summary>
        public StatsReply? Stats { get; init; }

        public Task Done { get; }

        public IReadOnlyList<ulong> Execs
        {
            get
            {
                lock (_gate)
                {
                    return [.. _execs];
                }
            }
        }

        public IReadOnlyList<ulong> Detached
        {
            get
            {
                lock (_gate)
                {
                    return [.. _detached];
                }
            }
        }

        public long StdinBytes => Interlocked.Read(ref _stdinBytes);

        public Task SendAsync(Frame frame) => _writer.WriteAsync(frame, CancellationToken.None);

        public async Task SendRawAsync(byte[] bytes)
        {
            await _stream.WriteAsync(bytes);
            await _stream.FlushAsync();
        }

        /// <summary>Sends <paramref name="total"/> bytes of output as CRX does, never more than the window without credit, then the exit; returns the most that was outstanding.</summary>
        public async Task<long> SendWithinWindowAsync(ulong stream, int total)
        {
            Interlocked.Exchange(ref _credit, StreamWindow.InitialBytes);
            long outstandingMost = 0;
            var chunk = new byte[StreamWindow.MaxChunkBytes];
            chunk.AsSpan().Fill((byte)'x');
            for (var sent = 0; sent < total; sent += chunk.Length)
            {
                while (Interlocked.Read(ref _credit) < chunk.Length)
                {
                    await Task.Delay(1);
                }

                var left = Interlocked.Add(ref _credit, -chunk.Length);
                outstandingMost = Math.Max(outstandingMost, StreamWindow.InitialBytes - left);
                await SendAsync(new Frame { Id = stream, Data = new StreamData { Kind = StreamKind.Stdout, Data = ByteString.CopyFrom(chunk) } });
            }

            await SendAsync(new Frame { Id = stream, Event = new Event { Exited = new ProcessExit { ExitCode = 0 } } });
            return outstandingMost;
        }

        private async Task ServeAsync()
        {
            var reader = new FrameReader(_stream);
            while (true)
            {
                FrameReadResult result;
                try
                {
                    result = await reader.ReadAsync(CancellationToken.None);
                }
                catch (IOException)
                {
                    return;
                }

                if (result.EndOfStream)
                {
                    return;
                }

                if (result.Frame is not { } frame)
                {
                    continue;
                }

                if (frame.Credit is { } credit)
                {
                    Interlocked.Add(ref _credit, (long)credit.Bytes);
                }
                else if (frame.Data is { } data)
                {
                    Interlocked.Add(ref _stdinBytes, data.Data.Length);
                }
                else if (frame.Request?.Hello is not null)
                {
                    await SendAsync(new Frame { Id = frame.Id, Response = new Response { Hello = new HelloReply { ProtocolVersion = CrxProtocol.Version } } });
                }
                else if (frame.Request?.Ping is not null)
                {
                    await SendAsync(new Frame { Id = frame.Id, Response = new Response { Ping = new PingReply() } });
                }
                else if (frame.Request?.Detach is { } detach)
                {
                    lock (_gate)
                    {
                        _detached.Add(detach.StreamId);
                    }

                    await SendAsync(new Frame { Id = frame.Id, Response = new Response() });
                }
                else if (frame.Request?.FollowLog is not null && AnswerCalls)
                {
                    lock (_gate)
                    {
                        _execs.Add(frame.Id);
                    }

                    await SendAsync(new Frame { Id = frame.Id, Response = new Response() });
                }
                else if (frame.Request?.Stats is not null && Stats is { } stats && AnswerCalls)
                {
                    await SendAsync(new Frame { Id = frame.Id, Response = new Response { Stats = stats } });
                }
                else if (frame.Request?.Exec is not null && AnswerCalls)
                {
                    lock (_gate)
                    {
                        _execs.Add(frame.Id);
                    }

                    await SendAsync(new Frame { Id = frame.Id, Response = new Response { Started = new ProcessStarted { Pid = 7 } } });
                }
            }
        }
    }
}
