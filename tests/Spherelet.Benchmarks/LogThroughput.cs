using System.Diagnostics;
using System.Text;
using Runtime.V1;

namespace Spherelet.Benchmarks;

/// <summary>
/// How fast a container's output reaches its CRI log file on the host: a container writes
/// lines of 1,000 bytes (busybox yes | head) and then "done"; timed from StartContainer to the
/// "done" line in the file, which is watched by its end only.
/// </summary>
internal static class LogThroughput
{
    private const int LineBytes = 1000;
    private const string ContainerName = "logger";
    private const string LogPath = ContainerName + "/0.log";

    /// <summary>MiB of container output per second, for <paramref name="mib"/> MiB of lines.</summary>
    public static async Task<double> MibPerSecondAsync(RuntimeService.RuntimeServiceClient runtime, ImageSpec image, string logRoot, string name, int mib, TimeSpan timeout)
    {
        var config = PodCalls.Config(name);
        config.LogDirectory = Path.Combine(logRoot, $"{config.Metadata.Namespace}_{name}_{config.Metadata.Uid}");
        var podId = await PodCalls.RunAsync(runtime, config);
        try
        {
            var lines = mib * 1024 * 1024 / LineBytes;
            var created = await runtime.CreateContainerAsync(new CreateContainerRequest
            {
                PodSandboxId = podId,
                Config = new ContainerConfig
                {
                    Metadata = new ContainerMetadata { Name = ContainerName },
                    Image = image,
                    Command = { "/bin/sh", "-c", $"/bin/busybox yes {new string('x', LineBytes - 1)} | /bin/busybox head -n {lines}; echo done; exec sleep 3600" },
                    LogPath = LogPath,
                },
                SandboxConfig = config,
            });
            var watch = Stopwatch.StartNew();
            await runtime.StartContainerAsync(new StartContainerRequest { ContainerId = created.ContainerId });
            await WaitForDoneAsync(Path.Combine(config.LogDirectory, LogPath), watch, timeout);
            var seconds = watch.Elapsed.TotalSeconds;
            await runtime.StopContainerAsync(new StopContainerRequest { ContainerId = created.ContainerId, Timeout = 0 });
            await runtime.RemoveContainerAsync(new RemoveContainerRequest { ContainerId = created.ContainerId });
            return (double)lines * LineBytes / (1024 * 1024) / seconds;
        }
        finally
        {
            await PodCalls.RemoveAsync(runtime, podId);
        }
    }

    /// <summary>Polls the end of the file until its last line is the container's "done".</summary>
    private static async Task WaitForDoneAsync(string path, Stopwatch watch, TimeSpan timeout)
    {
        var buffer = new byte[256];
        while (true)
        {
            if (File.Exists(path))
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var start = Math.Max(0, file.Length - buffer.Length);
                file.Position = start;
                var read = await file.ReadAsync(buffer);
                if (Encoding.ASCII.GetString(buffer, 0, read).EndsWith(" stdout F done\n", StringComparison.Ordinal))
                {
                    return;
                }
            }

            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"no 'done' line at the end of {path} after {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(20);
        }
    }
}
