using System.Diagnostics;
using Runtime.V1;

namespace Spherelet.Benchmarks;

/// <summary>Shell commands in a pod's container through CRI: <c>ExecSync sh -c COMMAND</c>, timed on the host from the call to its answer.</summary>
internal sealed class PodShell(RuntimeService.RuntimeServiceClient runtime, string containerId) : IShellPlace
{
    public async Task<ShellResult> RunAsync(string command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var response = await runtime.ExecSyncAsync(
            new ExecSyncRequest { ContainerId = containerId, Cmd = { "/bin/sh", "-c", command }, Timeout = (long)Math.Ceiling(timeout.TotalSeconds) },
            cancellationToken: cancellationToken);
        var elapsed = watch.Elapsed.TotalMilliseconds;
        return new ShellResult(response.ExitCode, response.Stdout.ToStringUtf8(), response.Stderr.ToStringUtf8(), elapsed);
    }
}
