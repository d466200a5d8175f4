using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;

namespace Spherelet.Tests.Crx;

public sealed class CrxKeepaliveTests
{
    [Fact]
    public async Task A_guest_that_stops_answering_is_detected_and_pending_calls_fail()
    {
        using var pair = await SocketPair.CreateAsync();
        var guest = HangAfterHelloAsync(pair.Guest);
        await using var client = await CrxClient.ConnectAsync(pair.Host, "test", CancellationToken.None);
        var pending = client.CallAsync(new Request { Wait = new WaitProcess { ContainerId = "c" } }, CancellationToken.None);

        client.StartKeepalive(TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(300));

        await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        var lost = await Assert.ThrowsAsync<CrxConnectionLostException>(() => pending);
        Assert.Contains("did not answer a ping", lost.Message, StringComparison.Ordinal);
        await guest;
    }

    /// <summary>Answers Hello, then reads every frame and answers none: a hung guest.</summary>
    private static async Task HangAfterHelloAsync(Stream stream)
    {
        var reader = new FrameReader(stream);
        var writer = new FrameWriter(stream);
        var hello = (await reader.ReadAsync(CancellationToken.None)).Frame!;
        await writer.WriteAsync(new Frame { Id = hello.Id, Response = new Response { Hello = new HelloReply { ProtocolVersion = CrxProtocol.Version } } }, CancellationToken.None);
        try
        {
            while (!(await reader.ReadAsync(CancellationToken.None)).EndOfStream)
            {
            }
        }
        catch (IOException)
        {
        }
    }
}
