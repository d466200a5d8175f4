using System.Diagnostics;

namespace Spherelet.IntegrationTests.Kubelet;

/// <summary>losetup(8), for the loop devices that stand in for a node's raw block volumes.</summary>
public static class Losetup
{
    /// <returns>Its standard output.</returns>
    public static async Task<string> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("losetup") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"losetup {string.Join(' ', args)}: {error}");
    }
}
