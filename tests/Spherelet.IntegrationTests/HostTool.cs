using System.Diagnostics;

namespace Spherelet.IntegrationTests;

/// <summary>Runs a host tool (chown, stat) to its end for a test's set-up or check.</summary>
public static class HostTool
{
    /// <summary>Its standard output and error; a non-zero exit is an <see cref="InvalidOperationException"/> that says both.</summary>
    public static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"{program} {string.Join(' ', arguments)}: {output}");
    }
}
