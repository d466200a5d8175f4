using System.Diagnostics;
using System.Globalization;
using Runtime.V1;
using Spherelet.Cri;

namespace Spherelet.Benchmarks;

/// <summary>A daemon of a benchmark's own beside the session's: its directory, recovery awaited, the image pulled; stopped by PID and removed on dispose.</summary>
internal sealed class BenchDaemon : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Grpc.Net.Client.GrpcChannel _channel;
    private readonly string _directory;

    private BenchDaemon(Process process, Grpc.Net.Client.GrpcChannel channel, string directory)
    {
        _process = process;
        _channel = channel;
        _directory = directory;
        Runtime = new RuntimeService.RuntimeServiceClient(channel);
    }

    public RuntimeService.RuntimeServiceClient Runtime { get; }

    /// <param name="metricsPort">Its metrics listener; 0 for none.</param>
    /// <param name="firstId">The first host id of its microvm QEMUs (apart from every other daemon's).</param>
    public static async Task<BenchDaemon> StartAsync(ContainersBenchOptions options, IReadOnlyDictionary<string, string> environment, int metricsPort, uint firstId, ImageSpec image)
    {
        var settings = new Dictionary<string, string>(environment, StringComparer.Ordinal)
        {
            ["SPHERELET__METRICS__PORT"] = metricsPort.ToString(CultureInfo.InvariantCulture),
            ["SPHERELET__MICROVM__FIRSTID"] = firstId.ToString(CultureInfo.InvariantCulture),
            ["SPHERELET__MICROVM__MAXVMS"] = "64",
        };
        var directory = Directory.CreateTempSubdirectory("sph-bench-daemon-").FullName;
        var process = PodVmDaemon.Start(options.Daemon, options.Kernel, options.Initramfs, directory, settings);
        var daemon = new BenchDaemon(process, CriChannel.ForUnixSocket(PodVmDaemon.Socket(directory)), directory);
        try
        {
            await PodVmDaemon.WaitRecoveredAsync(daemon.Runtime, process);
            await new ImageService.ImageServiceClient(daemon._channel).PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = image.UserSpecifiedImage } });
            return daemon;
        }
        catch
        {
            await daemon.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await PodCalls.RemoveLeftoversAsync(Runtime);
            }
        }
        finally
        {
            await PodVmDaemon.StopAsync(_process);
            _process.Dispose();
            _channel.Dispose();
            PodVmDaemon.DeleteDirectory(_directory);
        }
    }
}
