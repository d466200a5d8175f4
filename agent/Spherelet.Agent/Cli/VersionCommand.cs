using Grpc.Core;
using Runtime.V1;
using Spherelet.Cri;
using Spherelet.Domain.Runtime;

namespace Spherelet.Agent.Cli;

/// <summary>
/// <c>spherelet version</c>: prints this binary's version and asks the daemon on the
/// socket for its own, as <c>crictl version</c> does. Exit code 1 when the daemon does
/// not answer, so scripts can wait for it.
/// </summary>
public static class VersionCommand
{
    public static async Task<int> RunAsync(string socket, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        await output.WriteLineAsync($"client: {RuntimeIdentity.Name} {RuntimeIdentity.Version}");
        if (!File.Exists(socket))
        {
            await error.WriteLineAsync($"spherelet: no daemon: {socket} does not exist");
            return 1;
        }

        using var channel = CriChannel.ForUnixSocket(socket);
        try
        {
            var version = await new RuntimeService.RuntimeServiceClient(channel).VersionAsync(
                new VersionRequest(),
                deadline: DateTime.UtcNow.AddSeconds(5),
                cancellationToken: cancellationToken);
            await output.WriteLineAsync($"daemon: {version.RuntimeName} {version.RuntimeVersion} (CRI {version.RuntimeApiVersion}) on {socket}");
            return 0;
        }
        catch (RpcException e)
        {
            await error.WriteLineAsync($"spherelet: no daemon answers on {socket}: {e.Status.Detail}");
            return 1;
        }
    }
}
