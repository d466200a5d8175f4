using System.Text;
using CliWrap;
using Spherelet.Domain.Errors;

namespace Spherelet.Network;

/// <summary>Runs the few network tools that have no library (ovs-vsctl, ip): arguments as a list, never through a shell; a failure names the command and its error.</summary>
public static class HostCommand
{
    /// <returns>The command's standard output.</returns>
    /// <exception cref="NetworkOperationFailedException">It could not be run, or exited non-zero.</exception>
    public static Task<string> RunAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        RunAsync(program, arguments, null, cancellationToken);

    /// <param name="standardInput">What the command reads on its standard input; null: nothing.</param>
    /// <returns>The command's standard output.</returns>
    /// <exception cref="NetworkOperationFailedException">It could not be run, or exited non-zero.</exception>
    public static async Task<string> RunAsync(string program, IReadOnlyList<string> arguments, string? standardInput, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        try
        {
            var result = await CliWrap.Cli.Wrap(program)
                .WithArguments(arguments)
                .WithStandardInputPipe(standardInput is null ? PipeSource.Null : PipeSource.FromString(standardInput))
                .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stdout))
                .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
                .WithValidation(CommandResultValidation.None)
                .ExecuteAsync(cancellationToken);
            if (result.ExitCode != 0)
            {
                throw new NetworkOperationFailedException(
                    $"{program} {string.Join(' ', arguments)} failed (exit code {result.ExitCode}): {stderr.ToString().Trim()}");
            }

            return stdout.ToString();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new NetworkOperationFailedException($"{program} cannot be run: {e.Message}", e);
        }
    }
}
