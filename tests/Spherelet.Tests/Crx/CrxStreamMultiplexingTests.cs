using Google.Protobuf;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Tests.Crx;

/// <summary>
/// The client's side of attached process streams: the guest end is played by the test over
/// the wire, interleaving two processes' output and exits the way CRX sends them.
/// </summary>
public sealed class CrxStreamMultiplexingTests
{
    [Fact]
    public async Task Interleaved_output_of_two_processes_reaches_each_process_in_order()
    {
        using var pair = await SocketPair.CreateAsync();
        var guest = PlayGuestAsync(pair.Guest);
        await using var client = await CrxClient.ConnectAsync(pair.Host, "test", CancellationToken.None);

        var first = await client.ExecAsync(new ExecProcess { ContainerId = "c", ExecId = "a" }, CancellationToken.None);
        var second = await client.ExecAsync(new ExecProcess { ContainerId = "c", ExecId = "b" }, CancellationToken.None);
        await first.WriteStdinAsync("to-a"u8.ToArray(), CancellationToken.None);
        await second.CloseStdinAsync(CancellationToken.None);

        var (outA, errA, exitA) = await first.CollectAsync(CancellationToken.None);
        var (outB, errB, exitB) = await second.CollectAsync(CancellationToken.None);
        var stdinSeen = await guest;

        Assert.Equal("a0 a1 a2 ", outA);
        Assert.Equal("oops", errA);
        Assert.Equal(0, exitA.ExitCode);
        Assert.Equal("b0 b1 b2 ", outB);
        Assert.Equal(string.Empty, errB);
        Assert.Equal(143, exitB.ExitCode);
        Assert.Equal(15, exitB.Signal);
        Assert.Equal(["a:to-a", "b:eof"], stdinSeen);
    }

    /// <summary>Answers Hello and two execs, streams interleaved output, reports what stdin it got.</summary>
    private static async Task<List<string>> PlayGuestAsync(Stream stream)
    {
        var reader = new FrameReader(stream);
        var writer = new FrameWriter(stream);
        var execs = new List<ulong>();
        var stdin = new List<string>();
        while (stdin.Count < 2 || execs.Count < 2)
        {
            var frame = (await reader.ReadAsync(CancellationToken.None)).Frame!;
            if (frame.Request?.Hello is not null)
            {
                await writer.WriteAsync(new Frame { Id = frame.Id, Response = new Response { Hello = new HelloReply { ProtocolVersion = CrxProtocol.Version } } }, CancellationToken.None);
            }
            else if (frame.Request?.Exec is { } exec)
            {
                execs.Add(frame.Id);
                await writer.WriteAsync(new Frame { Id = frame.Id, Response = new Response { Started = new ProcessStarted { Pid = 100 + execs.Count } } }, CancellationToken.None);
            }
            else if (frame.Data is { } data)
            {
                var who = frame.Id == execs[0] ? "a" : "b";
                stdin.Add(data.Eof ? $"{who}:eof" : $"{who}:{data.Data.ToStringUtf8()}");
            }
        }

        for (var i = 0; i < 3; i++)
        {
            foreach (var (id, name) in new[] { (execs[1], "b"), (execs[0], "a") })
            {
                await writer.WriteAsync(new Frame { Id = id, Data = new StreamData { Kind = StreamKind.Stdout, Data = ByteString.CopyFromUtf8($"{name}{i} ") } }, CancellationToken.None);
            }
        }

        await writer.WriteAsync(new Frame { Id = execs[0], Data = new StreamData { Kind = StreamKind.Stderr, Data = ByteString.CopyFromUtf8("oops") } }, CancellationToken.None);
        await writer.WriteAsync(new Frame { Id = execs[1], Event = new Event { Exited = new ProcessExit { ExitCode = 143, Signal = 15 } } }, CancellationToken.None);
        await writer.WriteAsync(new Frame { Id = execs[0], Event = new Event { Exited = new ProcessExit { ExitCode = 0 } } }, CancellationToken.None);
        return stdin;
    }
}
