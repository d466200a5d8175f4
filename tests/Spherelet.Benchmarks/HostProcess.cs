using System.Diagnostics;

namespace Spherelet.Benchmarks;

/// <summary>Runs a program of the host (arguments as a list, no shell of its own) and waits for it; a program still running at the timeout is killed by its PID.</summary>
internal static class HostProcess
{
    public static async Task<ShellResult> RunAsync(string file, IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeout.TotalSeconds:0} s");
        }

        var elapsed = watch.Elapsed.TotalMilliseconds;
        return new ShellResult(process.ExitCode, await output, await error, elapsed);
    }

    /// <summary>Runs the program and returns its output; a non-zero exit is an <see cref="InvalidOperationException"/> naming the command and its error output.</summary>
    public static async Task<string> CheckedAsync(string file, params string[] args)
    {
        var result = await RunAsync(file, args, TimeSpan.FromSeconds(60), CancellationToken.None);
        return result.ExitCode == 0
            ? result.Output
            : throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({result.ExitCode}): {result.Error.Trim()}");
    }
}
