using Runtime.V1;
using Spherelet.Cri;
using Spherelet.IntegrationTests.Containers;
using Spherelet.IntegrationTests.Images;

namespace Spherelet.Benchmarks;

/// <summary>
/// The frame of every pod VM benchmark: a local registry with the benchmark's image, the daemon as
/// built in a directory of its own (with extra settings), recovery awaited, the image pulled; then
/// the body. Whatever happens, pods a failed body left are removed, the daemon is stopped by PID
/// and the directory deleted.
/// </summary>
internal static class PodVmSession
{
    /// <summary>Pushes the integration tests' busybox image (<see cref="ContainerTestImage"/>) and returns its reference.</summary>
    public static async Task<string> PushTestImageAsync(RegistryServer registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        await ContainerTestImage.PushAsync(registry);
        return $"{registry.Host}/{ContainerTestImage.Repository}:{ContainerTestImage.Tag}";
    }

    /// <param name="push">Pushes the image to the registry and returns its reference.</param>
    /// <param name="prepare">Runs once the daemon has recovered, before the pull (node settings).</param>
    public static async Task RunAsync(
        string daemonPath,
        string kernel,
        string initramfs,
        string directoryPrefix,
        IReadOnlyDictionary<string, string>? environment,
        Func<RegistryServer, Task<string>> push,
        Func<RuntimeService.RuntimeServiceClient, Task>? prepare,
        Func<PodVmContext, Task> body)
    {
        await using var registry = await RegistryServer.StartAsync();
        var reference = await push(registry);
        var dir = Directory.CreateTempSubdirectory(directoryPrefix).FullName;
        try
        {
            using var daemon = PodVmDaemon.Start(daemonPath, kernel, initramfs, dir, environment);
            using var channel = CriChannel.ForUnixSocket(PodVmDaemon.Socket(dir));
            var runtime = new RuntimeService.RuntimeServiceClient(channel);
            var completed = false;
            try
            {
                await PodVmDaemon.WaitRecoveredAsync(runtime, daemon);
                if (prepare is not null)
                {
                    await prepare(runtime);
                }

                var images = new ImageService.ImageServiceClient(channel);
                var image = (await images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } })).ImageRef;
                await body(new PodVmContext(daemon, runtime, new ImageSpec { Image = image, UserSpecifiedImage = reference }, dir));
                completed = true;
            }
            finally
            {
                if (!completed && !daemon.HasExited)
                {
                    await PodCalls.RemoveLeftoversAsync(runtime);
                }

                await PodVmDaemon.StopAsync(daemon);
            }
        }
        finally
        {
            PodVmDaemon.DeleteDirectory(dir);
        }
    }
}
