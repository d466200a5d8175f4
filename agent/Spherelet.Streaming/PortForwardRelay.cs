using Spherelet.Domain.Sandboxes;

namespace Spherelet.Streaming;

/// <summary>Relays one port-forward connection between a client's byte stream and a TCP connection in the pod, both ways, until both sides have finished.</summary>
public static class PortForwardRelay
{
    /// <param name="readClient">Reads from the client; 0 at its end.</param>
    /// <param name="writeClient">Writes to the client.</param>
    /// <param name="closeClient">Tells the client the pod's side has ended.</param>
    public static async Task RunAsync(
        IPodPortConnection pod,
        Func<Memory<byte>, CancellationToken, ValueTask<int>> readClient,
        Func<ReadOnlyMemory<byte>, CancellationToken, Task> writeClient,
        Func<CancellationToken, Task> closeClient,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(readClient);
        ArgumentNullException.ThrowIfNull(writeClient);
        ArgumentNullException.ThrowIfNull(closeClient);
        using var session = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var toPod = Task.Run(
            async () =>
            {
                var buffer = new byte[32 * 1024];
                while (true)
                {
                    var read = await readClient(buffer, session.Token);
                    if (read == 0)
                    {
                        await pod.CloseWriteAsync(session.Token);
                        return;
                    }

                    await pod.WriteAsync(buffer.AsMemory(0, read).ToArray(), session.Token);
                }
            },
            session.Token);
        var toClient = Task.Run(
            async () =>
            {
                await foreach (var chunk in pod.Incoming.ReadAllAsync(session.Token))
                {
                    await writeClient(chunk, session.Token);
                }

                await closeClient(session.Token);
            },
            session.Token);

        // The pod's side ending ends the connection (as the kubelet does); the client's side
        // ending only half-closes it, so an answer can still come back.
        try
        {
            await toClient;
        }
        finally
        {
            await session.CancelAsync();
            try
            {
                await toPod;
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or Domain.Errors.SphereletException)
            {
                // The connection is over.
            }
        }
    }
}
