namespace Spherelet.Benchmarks;

/// <summary>Shell commands in a network namespace of the host: <c>ip netns exec NS sh -c COMMAND</c>.</summary>
internal sealed class NetnsShell(string netns) : IShellPlace
{
    public Task<ShellResult> RunAsync(string command, TimeSpan timeout, CancellationToken cancellationToken) =>
        HostProcess.RunAsync("ip", ["netns", "exec", netns, "sh", "-c", command], timeout, cancellationToken);
}
