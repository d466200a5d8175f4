using System.Diagnostics;
using Grpc.Core;
using Runtime.V1;
using Spherelet.Cri;
using Spherelet.IntegrationTests.Images;

namespace Spherelet.Benchmarks;

/// <summary>
/// Pull and unpack of a multi-layer image of about 100 MB from a local registry: Spherelet's
/// PullImage through CRI next to skopeo copy (to an OCI layout) followed by umoci unpack,
/// runs interleaved, each starting from an empty store; then a second pull of the image
/// already present.
/// </summary>
internal static class ImagesBenchmark
{
    public static async Task RunAsync(ImagesBenchOptions options, TextWriter output)
    {
        var dir = Directory.CreateTempSubdirectory("sph-bench-img-").FullName;
        try
        {
            await using var registry = await RegistryServer.StartAsync();
            var reference = $"{registry.Host}/bench/big:1";
            long bytes;
            using (var pusher = new RegistryPusher(registry))
            {
                var layers = Enumerable.Range(0, options.Layers).Select(i => RandomLayer(i, options.LayerMiB)).ToList();
                bytes = layers.Sum(l => (long)l.Blob.Length);
                await pusher.PushImageAsync("bench/big", "1", layers);
            }

            var oursMs = new List<double>();
            var skopeoMs = new List<double>();
            var secondMs = new List<double>();
            for (var run = 0; run < options.Runs; run++)
            {
                skopeoMs.Add(await SkopeoUmociAsync(reference, Path.Combine(dir, $"skopeo-{run}")));
                var (first, second) = await SpherelePullAsync(options.Daemon, Path.Combine(dir, $"ours-{run}"), reference);
                oursMs.Add(first);
                secondMs.Add(second);
            }

            var ours = Stats.Median(oursMs);
            var theirs = Stats.Median(skopeoMs);
            var mib = bytes / (1024.0 * 1024.0);
            output.WriteLine($"images: {options.Layers} layers, {mib:0.0} MiB compressed (random content), {options.Runs} runs each, interleaved, empty store each run");
            output.WriteLine();
            output.WriteLine("| measure                                         | median     | p90        | min        |");
            output.WriteLine("|-------------------------------------------------|------------|------------|------------|");
            Row(output, "spherelet PullImage (pull + verify + unpack) ms", oursMs);
            Row(output, "skopeo copy to OCI layout + umoci unpack ms", skopeoMs);
            output.WriteLine($"| {"ratio spherelet / skopeo+umoci",-47} | {Stats.F(ours / theirs, "0.00"),10} |            |            |");
            output.WriteLine($"| {"spherelet throughput (MiB/s)",-47} | {Stats.F(mib / (ours / 1000)),10} |            |            |");
            Row(output, "second PullImage of the same image ms", secondMs);
            output.WriteLine();
            output.WriteLine(
                $"result: pull_ratio={Stats.F(ours / theirs, "0.00")} pull_ms={Stats.F(ours)} skopeo_umoci_ms={Stats.F(theirs)} " +
                $"mib={Stats.F(mib)} mib_per_s={Stats.F(mib / (ours / 1000))} second_pull_ms={Stats.F(Stats.Median(secondMs))}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void Row(TextWriter output, string name, List<double> values) =>
        output.WriteLine($"| {name,-47} | {Stats.F(Stats.Median(values)),10} | {Stats.F(Stats.Percentile(values, 90)),10} | {Stats.F(values.Min()),10} |");

    private static (byte[] Blob, string Digest, string DiffId) RandomLayer(int index, int mib)
    {
        var layer = new TestLayer().Directory($"data{index}");
        var random = new Random(index);
        for (var file = 0; file < 8; file++)
        {
            var content = new byte[mib * 1024 * 1024 / 8];
            random.NextBytes(content);
            layer.File($"data{index}/blob{file}", content);
        }

        return layer.Build();
    }

    private static async Task<double> SkopeoUmociAsync(string reference, string dir)
    {
        Directory.CreateDirectory(dir);
        var watch = Stopwatch.StartNew();
        await RunAsync("skopeo", "copy", "--src-tls-verify=false", "--quiet", $"docker://{reference}", $"oci:{Path.Combine(dir, "layout")}:1");
        await RunAsync("umoci", "unpack", "--image", $"{Path.Combine(dir, "layout")}:1", Path.Combine(dir, "bundle"));
        var elapsed = watch.Elapsed.TotalMilliseconds;
        Directory.Delete(dir, recursive: true);
        return elapsed;
    }

    /// <summary>A fresh daemon (empty store): the first PullImage, then the same again.</summary>
    private static async Task<(double First, double Second)> SpherelePullAsync(string daemonPath, string dir, string reference)
    {
        Directory.CreateDirectory(dir);
        var socket = Path.Combine(dir, "run", "s.sock");
        await File.WriteAllTextAsync(Path.Combine(dir, "spherelet.json"), "{}");
        var start = new ProcessStartInfo(daemonPath) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--config", Path.Combine(dir, "spherelet.json"), "--socket", socket, "--root", Path.Combine(dir, "lib"), "--state", Path.Combine(dir, "run"), "--log-level", "Warning" })
        {
            start.ArgumentList.Add(arg);
        }

        using var daemon = Process.Start(start)!;
        daemon.OutputDataReceived += (_, _) => { };
        daemon.ErrorDataReceived += (_, _) => { };
        daemon.BeginOutputReadLine();
        daemon.BeginErrorReadLine();
        try
        {
            using var channel = CriChannel.ForUnixSocket(socket);
            var images = new ImageService.ImageServiceClient(channel);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try
                {
                    await images.ListImagesAsync(new ListImagesRequest(), deadline: DateTime.UtcNow.AddSeconds(5));
                    break;
                }
                catch (RpcException) when (DateTime.UtcNow < deadline && !daemon.HasExited)
                {
                    await Task.Delay(50);
                }
            }

            var watch = Stopwatch.StartNew();
            await images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } });
            var first = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            await images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = reference } });
            return (first, watch.Elapsed.TotalMilliseconds);
        }
        finally
        {
            _ = Tmds.Linux.LibC.kill(daemon.Id, Tmds.Linux.LibC.SIGTERM);
            await daemon.WaitForExitAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} failed ({process.ExitCode}): {await error}");
        }
    }
}
