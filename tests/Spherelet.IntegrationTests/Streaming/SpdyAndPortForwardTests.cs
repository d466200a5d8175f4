using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Runtime.V1;
using Spherelet.IntegrationTests.Containers;

namespace Spherelet.IntegrationTests.Streaming;

/// <summary>
/// Exec over SPDY/3.1 as the kubelet proxies it, and port-forward over SPDY and WebSocket, against
/// a real pod VM (one pod boot), with clients written in these tests
/// (<see cref="SpdyStreamClient"/>, a raw <see cref="ClientWebSocket"/>). Needs what the
/// container tests need.
/// </summary>
[Collection(ContainerPod.Collection)]
public sealed class SpdyAndPortForwardTests : IClassFixture<ContainerPod>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);
    private readonly ContainerPod _pod;

    public SpdyAndPortForwardTests(ContainerPod pod)
    {
        _pod = pod;
    }

    [Fact]
    public async Task Exec_over_spdy_pipes_stdin_streams_stdout_and_stderr_and_puts_the_exit_status_on_the_error_stream()
    {
        var container = await _pod.RunAsync(_pod.Container("spdy-exec", "sleep", "1000"));
        var url = (await _pod.Runtime.ExecAsync(new ExecRequest { ContainerId = container, Cmd = { "sh", "-c", "cat; echo bye >&2; exit 4" }, Stdin = true, Stdout = true, Stderr = true })).Url;

        var (client, status, _) = await SpdyStreamClient.ConnectAsync(url, "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io");
        await using var spdy = client!;
        var error = await spdy.OpenAsync(("streamtype", "error"));
        var stdin = await spdy.OpenAsync(("streamtype", "stdin"));
        var stdout = await spdy.OpenAsync(("streamtype", "stdout"));
        var stderr = await spdy.OpenAsync(("streamtype", "stderr"));
        await spdy.WriteAsync(stdin, "through spdy\n", fin: true);
        await spdy.WaitAsync(() => spdy.Finished(error) && spdy.Finished(stdout) && spdy.Finished(stderr), Wait);

        Assert.Equal((101, "v4.channel.k8s.io"), (status, spdy.Protocol));
        Assert.Equal(("through spdy\n", "bye\n"), (spdy.Text(stdout), spdy.Text(stderr)));
        using var result = JsonDocument.Parse(spdy.Text(error));
        Assert.Equal("NonZeroExitCode", result.RootElement.GetProperty("reason").GetString());
        Assert.Equal("4", result.RootElement.GetProperty("details").GetProperty("causes")[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task Exec_over_spdy_on_a_tty_takes_its_size_from_the_resize_stream_and_older_protocols_report_only_failures_as_text()
    {
        var container = await _pod.RunAsync(_pod.Container("spdy-tty", "sleep", "1000"));
        var url = (await _pod.Runtime.ExecAsync(new ExecRequest { ContainerId = container, Cmd = { "sh", "-c", "read go; i=0; while [ \"$(stty size 2>/dev/null)\" != '33 111' ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; stty size" }, Stdin = true, Stdout = true, Tty = true })).Url;
        var (client, _, _) = await SpdyStreamClient.ConnectAsync(url, "v4.channel.k8s.io");
        await using (var spdy = client!)
        {
            var error = await spdy.OpenAsync(("streamtype", "error"));
            var stdin = await spdy.OpenAsync(("streamtype", "stdin"));
            var stdout = await spdy.OpenAsync(("streamtype", "stdout"));
            var resize = await spdy.OpenAsync(("streamtype", "resize"));
            // Resizes and stdin come on different streams, so a resize may reach the terminal just
            // after input sent after it (as with the kubelet): the command waits up to 10 s for it.
            await spdy.WriteAsync(resize, """{"Width":111,"Height":33}""");
            await spdy.WriteAsync(stdin, "go\n");
            await spdy.WaitAsync(() => spdy.Finished(error), Wait);

            Assert.Contains("33 111", spdy.Text(stdout), StringComparison.Ordinal);
            Assert.Equal("Success", JsonDocument.Parse(spdy.Text(error)).RootElement.GetProperty("status").GetString());
        }

        var failing = (await _pod.Runtime.ExecAsync(new ExecRequest { ContainerId = container, Cmd = { "false" }, Stdout = true })).Url;
        var (legacy, _, _) = await SpdyStreamClient.ConnectAsync(failing, "v2.channel.k8s.io");
        await using (var spdy = legacy!)
        {
            var error = await spdy.OpenAsync(("streamtype", "error"));
            var stdout = await spdy.OpenAsync(("streamtype", "stdout"));
            await spdy.WaitAsync(() => spdy.Finished(error), Wait);

            Assert.Equal("v2.channel.k8s.io", spdy.Protocol);
            Assert.Equal("command terminated with non-zero exit code: 1", spdy.Text(error));
        }

        // A client that names no protocol gets the first, channel.k8s.io, as from the kubelet.
        var unnamed = (await _pod.Runtime.ExecAsync(new ExecRequest { ContainerId = container, Cmd = { "sh", "-c", "echo first; exit 2" }, Stdout = true })).Url;
        var (first, firstStatus, _) = await SpdyStreamClient.ConnectAsync(unnamed);
        await using (var spdy = first!)
        {
            var error = await spdy.OpenAsync(("streamtype", "error"));
            var stdout = await spdy.OpenAsync(("streamtype", "stdout"));
            await spdy.WaitAsync(() => spdy.Finished(error) && spdy.Finished(stdout), Wait);

            Assert.Equal((101, "channel.k8s.io"), (firstStatus, spdy.Protocol));
            Assert.Equal(("first\n", "command terminated with non-zero exit code: 2"), (spdy.Text(stdout), spdy.Text(error)));
        }

        var refused = (await _pod.Runtime.ExecAsync(new ExecRequest { ContainerId = container, Cmd = { "true" }, Stdout = true })).Url;
        var (none, status, body) = await SpdyStreamClient.ConnectAsync(refused, "v9.channel.k8s.io");
        Assert.Null(none);
        Assert.Equal(403, status);
        Assert.Contains("unable to negotiate protocol", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attach_over_spdy_echoes_stdin_through_the_main_process_and_leaving_does_not_stop_it()
    {
        var config = _pod.Container("spdy-attach", "cat");
        config.Stdin = true;
        var container = await _pod.RunAsync(config);
        var url = (await _pod.Runtime.AttachAsync(new AttachRequest { ContainerId = container, Stdin = true, Stdout = true, Stderr = true })).Url;

        var (client, _, _) = await SpdyStreamClient.ConnectAsync(url, "v4.channel.k8s.io");
        await using (var spdy = client!)
        {
            await spdy.OpenAsync(("streamtype", "error"));
            var stdin = await spdy.OpenAsync(("streamtype", "stdin"));
            var stdout = await spdy.OpenAsync(("streamtype", "stdout"));
            await spdy.OpenAsync(("streamtype", "stderr"));
            await spdy.WriteAsync(stdin, "over spdy\n");
            await spdy.WaitAsync(() => spdy.Text(stdout).Contains("over spdy", StringComparison.Ordinal), Wait);

            Assert.Equal("over spdy\n", spdy.Text(stdout));
        }

        var exec = await _pod.ExecAsync(container, 30, "true");
        Assert.Equal(0, exec.ExitCode);
        Assert.Equal(ContainerState.ContainerRunning, (await _pod.StatusAsync(container)).State);
    }

    [Fact]
    public async Task Port_forward_over_spdy_reaches_a_server_in_the_pod_and_a_port_nobody_listens_on_is_an_error_on_its_stream()
    {
        await _pod.RunAsync(_pod.Container("pf-web", "httpd", "-f", "-p", "8080", "-h", "/www"));
        var url = (await _pod.Runtime.PortForwardAsync(new PortForwardRequest { PodSandboxId = _pod.PodId })).Url;

        var (client, status, _) = await SpdyStreamClient.ConnectAsync(url, "portforward.k8s.io");
        await using var spdy = client!;
        async Task<(uint Error, uint Data)> ConnectionAsync(string port, string requestId)
        {
            var error = await spdy.OpenAsync(("streamtype", "error"), ("port", port), ("requestid", requestId));
            var data = await spdy.OpenAsync(("streamtype", "data"), ("port", port), ("requestid", requestId));
            return (error, data);
        }

        var first = await ConnectionAsync("8080", "0");
        var second = await ConnectionAsync("8080", "1");
        var closed = await ConnectionAsync("9", "2");
        await spdy.WriteAsync(first.Data, "GET / HTTP/1.0\r\n\r\n", fin: true);
        await spdy.WriteAsync(second.Data, "GET /missing HTTP/1.0\r\n\r\n", fin: true);
        await spdy.WaitAsync(() => spdy.Finished(first.Data) && spdy.Finished(second.Data) && spdy.Finished(closed.Error), Wait);

        Assert.Equal((101, "portforward.k8s.io"), (status, spdy.Protocol));
        Assert.StartsWith("HTTP/1.1 200 OK", spdy.Text(first.Data), StringComparison.Ordinal);
        Assert.Contains(ContainerTestImage.WebPage.Trim(), spdy.Text(first.Data), StringComparison.Ordinal);
        Assert.StartsWith("HTTP/1.1 404", spdy.Text(second.Data), StringComparison.Ordinal);
        Assert.Equal(string.Empty, spdy.Text(first.Error));
        Assert.StartsWith($"error forwarding port 9 to pod {_pod.PodId}", spdy.Text(closed.Error), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Port_forward_over_websocket_announces_each_port_and_relays_its_connection()
    {
        await _pod.RunAsync(_pod.Container("pf-ws-web", "httpd", "-f", "-p", "8081", "-h", "/www"));
        var url = (await _pod.Runtime.PortForwardAsync(new PortForwardRequest { PodSandboxId = _pod.PodId, Port = { 8081 } })).Url;

        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("portforward.k8s.io");
        await socket.ConnectAsync(new Uri(url.Replace("http://", "ws://", StringComparison.Ordinal)), CancellationToken.None);
        var announced = new List<byte[]> { await ReceiveAsync(socket), await ReceiveAsync(socket) };
        await socket.SendAsync(new byte[] { 0 }.Concat(Encoding.ASCII.GetBytes("GET / HTTP/1.0\r\n\r\n")).ToArray(), WebSocketMessageType.Binary, true, CancellationToken.None);
        var response = new StringBuilder();
        using var deadline = new CancellationTokenSource(Wait);
        while (!response.ToString().Contains(ContainerTestImage.WebPage.Trim(), StringComparison.Ordinal))
        {
            var message = await ReceiveAsync(socket, deadline.Token);
            if (message.Length > 1 && message[0] == 0)
            {
                response.Append(Encoding.UTF8.GetString(message, 1, message.Length - 1));
            }
        }

        Assert.Equal("portforward.k8s.io", socket.SubProtocol);
        Assert.Equal([[0, 0x91, 0x1F], [1, 0x91, 0x1F]], announced); // 8081, little-endian, on the data and error channels
        Assert.StartsWith("HTTP/1.1 200 OK", response.ToString(), StringComparison.Ordinal);
    }

    private static async Task<byte[]> ReceiveAsync(ClientWebSocket socket, CancellationToken cancellationToken = default)
    {
        using var message = new MemoryStream();
        var buffer = new byte[16 * 1024];
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, cancellationToken);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);

        return message.ToArray();
    }
}
