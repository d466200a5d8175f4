using System.Text.Json;
using Grpc.Core;
using Runtime.V1;
using Spherelet.IntegrationTests.Containers;

namespace Spherelet.IntegrationTests.Streaming;

/// <summary>
/// Exec and Attach through the streaming server's WebSocket protocols against a real pod VM
/// (one pod boot): the CRI call hands out a URL, a client written in these tests
/// (<see cref="ChannelStreamClient"/>) speaks v4/v5.channel.k8s.io to it. Needs what the
/// container tests need (root, libvirtd, the built guest, docker-registry).
/// </summary>
[Collection(ContainerPod.Collection)]
public sealed class StreamingTests : IClassFixture<ContainerPod>
{
    private readonly ContainerPod _pod;

    public StreamingTests(ContainerPod pod)
    {
        _pod = pod;
    }

    [Fact]
    public async Task Exec_without_a_tty_streams_stdout_and_stderr_apart_and_ends_with_the_non_zero_exit_code_as_status()
    {
        var container = await _pod.RunAsync(_pod.Container("exec-plain", "sleep", "1000"));
        var url = await ExecUrlAsync(container, ["sh", "-c", "echo out; echo err >&2; exit 3"], stdout: true, stderr: true);

        using var client = await ChannelStreamClient.ConnectAsync(url, "v4.channel.k8s.io");
        await client.ReadToEndAsync();

        Assert.StartsWith("http://127.0.0.1:", url, StringComparison.Ordinal);
        Assert.Equal("v4.channel.k8s.io", client.Protocol);
        Assert.Equal(("out\n", "err\n"), (client.Stdout, client.Stderr));
        using var status = JsonDocument.Parse(client.Error);
        Assert.Equal("Failure", status.RootElement.GetProperty("status").GetString());
        Assert.Equal("NonZeroExitCode", status.RootElement.GetProperty("reason").GetString());
        var cause = status.RootElement.GetProperty("details").GetProperty("causes")[0];
        Assert.Equal(("ExitCode", "3"), (cause.GetProperty("reason").GetString(), cause.GetProperty("message").GetString()));
        Assert.True(client.Closed);
    }

    [Fact]
    public async Task Exec_pipes_stdin_to_cat_and_closing_stdin_in_v5_ends_it_with_success()
    {
        var container = await _pod.RunAsync(_pod.Container("exec-cat", "sleep", "1000"));
        var url = await ExecUrlAsync(container, ["cat"], stdin: true, stdout: true, stderr: true);

        using var client = await ChannelStreamClient.ConnectAsync(url);
        await client.SendStdinAsync("hello\n");
        await client.SendStdinAsync("world\n");
        await client.ReadUntilAsync(() => client.Stdout.Contains("world", StringComparison.Ordinal));
        await client.CloseStdinAsync();
        await client.ReadToEndAsync();

        Assert.Equal("v5.channel.k8s.io", client.Protocol);
        Assert.Equal("hello\nworld\n", client.Stdout);
        Assert.Equal("Success", JsonDocument.Parse(client.Error).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Exec_on_a_tty_runs_on_a_terminal_whose_size_follows_the_resize_channel()
    {
        var container = await _pod.RunAsync(_pod.Container("exec-tty", "sleep", "1000"));
        var url = await ExecUrlAsync(container, ["sh", "-c", "read go; stty size; tty"], stdin: true, stdout: true, tty: true);

        using var client = await ChannelStreamClient.ConnectAsync(url);
        await client.ResizeAsync(123, 45);
        await client.SendStdinAsync("go\n");
        await client.ReadToEndAsync();

        Assert.Contains("45 123", client.Stdout, StringComparison.Ordinal);
        Assert.Contains("/dev/pts/", client.Stdout, StringComparison.Ordinal);
        Assert.Equal(string.Empty, client.Stderr);
        Assert.Equal("Success", JsonDocument.Parse(client.Error).RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Attach_connects_to_a_container_that_echoes_its_stdin_and_leaving_does_not_stop_it()
    {
        var config = _pod.Container("attach-cat", "cat");
        config.Stdin = true;
        var container = await _pod.RunAsync(config);
        var url = (await _pod.Runtime.AttachAsync(new AttachRequest { ContainerId = container, Stdin = true, Stdout = true, Stderr = true })).Url;

        using (var client = await ChannelStreamClient.ConnectAsync(url))
        {
            await client.SendStdinAsync("ping\n");
            await client.ReadUntilAsync(() => client.Stdout.Contains("ping", StringComparison.Ordinal));
            Assert.Equal("ping\n", client.Stdout);
            client.Abort();
        }

        var again = (await _pod.Runtime.AttachAsync(new AttachRequest { ContainerId = container, Stdin = true, Stdout = true })).Url;
        using var second = await ChannelStreamClient.ConnectAsync(again);
        await second.SendStdinAsync("pong\n");
        await second.ReadUntilAsync(() => second.Stdout.Contains("pong", StringComparison.Ordinal));

        Assert.Equal("pong\n", second.Stdout);
        Assert.Equal(ContainerState.ContainerRunning, (await _pod.StatusAsync(container)).State);
    }

    [Fact]
    public async Task Attach_to_a_container_on_a_terminal_uses_its_terminal_and_follows_resizes()
    {
        var config = _pod.Container("attach-tty", "sh");
        config.Stdin = true;
        config.Tty = true;
        var container = await _pod.RunAsync(config);
        var url = (await _pod.Runtime.AttachAsync(new AttachRequest { ContainerId = container, Stdin = true, Stdout = true, Tty = true })).Url;

        using var client = await ChannelStreamClient.ConnectAsync(url);
        await client.ResizeAsync(91, 27);
        await client.SendStdinAsync("stty size; tty\n");
        await client.ReadUntilAsync(() => client.Stdout.Contains("/dev/", StringComparison.Ordinal) && client.Stdout.Contains("27 91", StringComparison.Ordinal));

        Assert.Contains("27 91", client.Stdout, StringComparison.Ordinal);
        Assert.Contains("/dev/pts/", client.Stdout, StringComparison.Ordinal);
        var mismatch = await Assert.ThrowsAsync<RpcException>(() => _pod.Runtime.AttachAsync(new AttachRequest { ContainerId = container, Stdout = true, Stderr = true }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, mismatch.StatusCode);
    }

    [Fact]
    public async Task A_used_or_expired_url_is_refused_with_404_and_open_sessions_show_in_the_verbose_status()
    {
        var container = await _pod.RunAsync(_pod.Container("exec-tokens", "sleep", "1000"));
        var url = await ExecUrlAsync(container, ["sleep", "30"], stdout: true);
        var expiring = await ExecUrlAsync(container, ["true"], stdout: true);

        using var first = await ChannelStreamClient.ConnectAsync(url);
        var during = await StreamingInfoAsync();
        var (reused, reusedStatus) = await ChannelStreamClient.TryConnectAsync(url);
        first.Abort();
        await Task.Delay(TimeSpan.FromSeconds(6)); // the URLs live 5 s in these tests
        var (expired, expiredStatus) = await ChannelStreamClient.TryConnectAsync(expiring);
        var after = await WaitForStreamingInfoAsync(info => info.GetProperty("openSessions").GetInt32() == 0);

        Assert.Null(reused);
        Assert.Equal(404, reusedStatus);
        Assert.Null(expired);
        Assert.Equal(404, expiredStatus);
        Assert.Equal(1, during.GetProperty("openSessions").GetInt32());
        Assert.Equal(1, during.GetProperty("sessions").GetProperty("exec").GetProperty("open").GetInt32());
        Assert.Equal(0, after.GetProperty("openSessions").GetInt32());
        Assert.StartsWith("http://127.0.0.1:", after.GetProperty("url").GetString(), StringComparison.Ordinal);
        // The killed client's process does not outlive its session.
        var left = (await _pod.ExecAsync(container, 30, "ps", "-o", "pid,stat,args")).Stdout.ToStringUtf8();
        Assert.DoesNotContain(left.Split('\n'), line => line.EndsWith("sleep 30", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Exec_and_attach_requests_that_cannot_be_served_are_refused_before_a_url_is_made()
    {
        var running = await _pod.RunAsync(_pod.Container("exec-refusals", "sleep", "1000"));
        var exited = await _pod.RunAsync(_pod.Container("exec-exited", "true"));
        await _pod.WaitUntilExitedAsync(exited);

        var notRunning = await Assert.ThrowsAsync<RpcException>(() => _pod.Runtime.ExecAsync(new ExecRequest { ContainerId = exited, Cmd = { "true" }, Stdout = true }).ResponseAsync);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => _pod.Runtime.ExecAsync(new ExecRequest { ContainerId = "f00d" + new string('0', 60), Cmd = { "true" }, Stdout = true }).ResponseAsync);
        var noStreams = await Assert.ThrowsAsync<RpcException>(() => _pod.Runtime.ExecAsync(new ExecRequest { ContainerId = running, Cmd = { "true" } }).ResponseAsync);
        var ttyAndStderr = await Assert.ThrowsAsync<RpcException>(() => _pod.Runtime.ExecAsync(new ExecRequest { ContainerId = running, Cmd = { "true" }, Tty = true, Stdout = true, Stderr = true }).ResponseAsync);
        var noStdin = await Assert.ThrowsAsync<RpcException>(() => _pod.Runtime.AttachAsync(new AttachRequest { ContainerId = running, Stdin = true, Stdout = true }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, notRunning.StatusCode);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, noStreams.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, ttyAndStderr.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, noStdin.StatusCode);
        Assert.Contains("was not created with stdin", noStdin.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_metrics_url_counts_this_pods_start_phases_the_pulls_guest_round_trips_and_streaming_sessions()
    {
        var container = await _pod.RunAsync(_pod.Container("metered", "sleep", "1000"));
        var url = await ExecUrlAsync(container, ["true"], stdout: true);
        using (var exec = await ChannelStreamClient.ConnectAsync(url, "v4.channel.k8s.io"))
        {
            await exec.ReadToEndAsync();
        }

        var missing = await Assert.ThrowsAsync<RpcException>(() => _pod.Client.Images.PullImageAsync(
            new PullImageRequest { Image = new ImageSpec { Image = $"{_pod.Registry.Host}/{ContainerTestImage.Repository}:no-such-tag" } }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);

        var samples = await Metrics.PrometheusText.ScrapeAsync(_pod.MetricsPort);

        // The fixture's pod and this test's container went through every phase but the network's (this node has no pod CIDR).
        Assert.Equal("histogram", samples.Types["spherelet_pod_start_phase_duration_seconds"]);
        foreach (var phase in new[] { "vm_start", "guest_ready", "container_create", "container_start" })
        {
            Assert.True(samples.Value("spherelet_pod_start_phase_duration_seconds_count", ("phase", phase)) >= 1, phase);
            Assert.True(samples.Value("spherelet_pod_start_phase_duration_seconds_sum", ("phase", phase)) > 0, phase);
        }

        Assert.Equal(0, samples.Value("spherelet_pod_start_phase_duration_seconds_count", ("phase", "network_attach")));
        // The fixture pulled the test image from the registry; the missing tag failed as not_found.
        Assert.True(samples.Value("spherelet_image_pull_duration_seconds_count") >= 1);
        Assert.True(samples.Value("spherelet_image_pull_bytes_total") > 0);
        Assert.True(samples.Value("spherelet_image_pull_failures_total", ("reason", "not_found")) >= 1);
        Assert.Equal("counter", samples.Types["spherelet_image_pull_failures_total"]);
        // The guest channel was pinged at connect.
        Assert.True(samples.Value("spherelet_guest_channel_round_trip_seconds_count") >= 1);
        Assert.True(samples.Value("spherelet_guest_channel_round_trip_seconds_sum") > 0);
        Assert.True(samples.Value("spherelet_streaming_sessions_total", ("kind", "exec")) >= 1);
        Assert.Equal("gauge", samples.Types["spherelet_streaming_sessions"]);
        Assert.True(samples.Value("spherelet_cri_request_duration_seconds_count", ("rpc", "RuntimeService/RunPodSandbox"), ("code", "OK")) >= 1);
        Assert.True(samples.Value("spherelet_cri_request_duration_seconds_count", ("rpc", "ImageService/PullImage"), ("code", "NotFound")) >= 1);
        Assert.True(samples.Value("spherelet_containers", ("state", "running"), ("runtime_handler", "default")) >= 1);
        Assert.Equal(1, samples.Value("spherelet_sandboxes", ("state", "ready"), ("runtime_handler", "default")));
    }

    private async Task<string> ExecUrlAsync(string container, string[] command, bool stdin = false, bool stdout = false, bool stderr = false, bool tty = false) =>
        (await _pod.Runtime.ExecAsync(new ExecRequest { ContainerId = container, Cmd = { command }, Stdin = stdin, Stdout = stdout, Stderr = stderr, Tty = tty })).Url;

    private async Task<JsonElement> StreamingInfoAsync()
    {
        var status = await _pod.Runtime.StatusAsync(new StatusRequest { Verbose = true });
        return JsonDocument.Parse(status.Info["streaming"]).RootElement.Clone();
    }

    private async Task<JsonElement> WaitForStreamingInfoAsync(Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var info = await StreamingInfoAsync();
            if (done(info) || DateTime.UtcNow > deadline)
            {
                return info;
            }

            await Task.Delay(200);
        }
    }
}
