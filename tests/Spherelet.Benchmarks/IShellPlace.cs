namespace Spherelet.Benchmarks;

/// <summary>Where a measurement's shell commands run: a pod's container (through ExecSync) or a network namespace of the host.</summary>
internal interface IShellPlace
{
    /// <summary>Runs <c>sh -c <paramref name="command"/></c> there and times it on the host's clock.</summary>
    Task<ShellResult> RunAsync(string command, TimeSpan timeout, CancellationToken cancellationToken);
}
