using System.Globalization;
using Runtime.V1;

namespace Spherelet.IntegrationTests.Metrics;

/// <summary>
/// The Prometheus listener of a real daemon: its text format parsed line by line, the CRI request
/// histogram and the state gauges; nothing listens with Metrics:Port 0. Needs what the daemon's
/// start needs (no VM boots here).
/// </summary>
public sealed class MetricsTests : IDisposable
{
    private readonly TestDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_metrics_url_serves_the_cri_request_histogram_and_state_gauges_in_prometheus_text_format()
    {
        var port = PrometheusText.FreePort();
        using var daemon = DaemonProcess.Start(_dir, new Dictionary<string, string> { ["SPHERELET__METRICS__PORT"] = port.ToString(CultureInfo.InvariantCulture) });
        using var client = await daemon.ConnectAsync();
        await client.Runtime.VersionAsync(new VersionRequest());
        // Once recovery is done: PodSandboxStatus answers NotFound, not Unavailable.
        await Sandboxes.SandboxDaemon.ListWhenRecoveredAsync(client, TimeSpan.FromSeconds(60));
        var missing = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => client.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = "feedface" }).ResponseAsync);
        Assert.Equal(Grpc.Core.StatusCode.NotFound, missing.StatusCode);

        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));
        var samples = PrometheusText.Parse(text);

        Assert.Equal("histogram", samples.Types["spherelet_cri_request_duration_seconds"]);
        Assert.True(samples.Value("spherelet_cri_request_duration_seconds_count", ("rpc", "RuntimeService/Version"), ("code", "OK")) >= 1);
        Assert.True(samples.Value("spherelet_cri_request_duration_seconds_count", ("rpc", "RuntimeService/PodSandboxStatus"), ("code", "NotFound")) >= 1);
        Assert.True(samples.Value("spherelet_cri_request_duration_seconds_sum", ("rpc", "RuntimeService/Version"), ("code", "OK")) > 0);
        Assert.True(samples.Value("spherelet_cri_request_duration_seconds_bucket", ("rpc", "RuntimeService/Version"), ("code", "OK"), ("le", "+Inf")) >= 1);
        Assert.Equal("gauge", samples.Types["spherelet_sandboxes"]);
        Assert.Equal(0, samples.Value("spherelet_sandboxes", ("state", "ready"), ("runtime_handler", "default")));
        Assert.Equal(0, samples.Value("spherelet_containers", ("state", "running"), ("runtime_handler", "libvirt")));
        Assert.Contains("metrics listening url=http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture) + "/metrics", daemon.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_Metrics_Port_0_nothing_listens_but_the_streaming_server()
    {
        var port = PrometheusText.FreePort();
        using (var on = DaemonProcess.Start(_dir, new Dictionary<string, string> { ["SPHERELET__METRICS__PORT"] = port.ToString(CultureInfo.InvariantCulture) }))
        {
            using var client = await on.ConnectAsync();
            Assert.Equal(2, TcpListeners(on.Pid).Count); // the streaming server and the metrics listener
        }

        using var off = DaemonProcess.Start(_dir, new Dictionary<string, string> { ["SPHERELET__METRICS__PORT"] = "0" });
        using var again = await off.ConnectAsync();
        await again.Runtime.VersionAsync(new VersionRequest());

        Assert.Single(TcpListeners(off.Pid)); // the streaming server only
        Assert.DoesNotContain(TcpListeners(off.Pid), l => l.EndsWith(":" + port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Contains("metrics listener off", off.Output, StringComparison.Ordinal);
    }

    /// <summary>The local addresses of the TCP sockets process <paramref name="pid"/> listens on (ss).</summary>
    private static List<string> TcpListeners(int pid) =>
        HostTool.Run("/usr/bin/ss", "-ltnpH")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(line => line.Contains($"pid={pid},", StringComparison.Ordinal))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3])
            .ToList();
}
