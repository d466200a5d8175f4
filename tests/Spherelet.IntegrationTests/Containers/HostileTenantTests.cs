using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Runtime.V1;
using Spherelet.IntegrationTests.Images;

namespace Spherelet.IntegrationTests.Containers;

/// <summary>
/// A root tenant against the host, from inside a real pod VM: a privileged container in the pod's
/// PID namespace enters PID 1's mount namespace (<c>nsenter -t 1 -m</c>, what any code that takes
/// over CRX can do) and tries every trick on /pod, the logs and the console, or floods what the
/// host reads; the host's files and mounts must not move and the agent's memory must stay bounded.
/// Needs what <see cref="ContainerPod"/> needs. One pod VM for the class.
/// </summary>
[Collection(ContainerPod.Collection)]
public sealed class HostileTenantTests : IClassFixture<ContainerPod>
{
    private static readonly string[] ShareTop = ["layers", "volumes"];
    private readonly ContainerPod _pod;

    public HostileTenantTests(ContainerPod pod)
    {
        _pod = pod;
    }

    private string PodDirectory => Path.Combine(_pod.Dir.Root, "pods", _pod.PodId);

    [Fact]
    public async Task A_root_tenant_can_write_create_rename_link_or_make_devices_nowhere_in_its_share_but_its_writable_volumes()
    {
        var volume = Directory.CreateDirectory(Path.Combine(_pod.Dir.Path, "hostile-volume")).FullName;
        var id = await RunTenantAsync("tenant-share", volume);
        try
        {
            var before = HostTree();
            var script = string.Join(
                "; ",
                "for d in /pod /pod/volumes /pod/volumes/* /pod/layers /pod/layers/*",
                "do touch $d/f 2>/dev/null && echo \"wrote $d\"",
                "mkdir $d/d 2>/dev/null && echo \"made a directory in $d\"",
                "ln -s /etc $d/l 2>/dev/null && echo \"linked in $d\"",
                "mknod $d/n c 1 3 2>/dev/null && echo \"made a device in $d\"",
                "chmod 4777 $d 2>/dev/null && echo \"chmod $d\"",
                "done",
                "for e in /pod/volumes/* /pod/layers/* /pod/volumes/*/*; do mv $e $e.moved 2>/dev/null && echo \"renamed $e\"; done",
                // Where a later container's volumes will be: nothing can be planted there.
                "mkdir -p /pod/volumes/next 2>/dev/null && echo planted",
                "ls /pod/volumes/*/ | grep -c . ; ls /pod/layers | grep -c .");
            var tried = await InVmAsync(id, script);

            var lines = tried.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            Assert.All(lines, line => Assert.True(int.Parse(line, System.Globalization.CultureInfo.InvariantCulture) > 0, $"the share was seen: {tried}"));
            Assert.Equal(before, HostTree());

            // The writable volume is the one place it can write, and what it writes there is on the host.
            await InVmAsync(id, "for v in /pod/volumes/*/0; do touch $v/written; done");
            Assert.True(File.Exists(Path.Combine(volume, "written")));
        }
        finally
        {
            await StopAndRemoveAsync(id);
        }
    }

    [Fact]
    public async Task A_pod_sees_the_layers_of_its_own_containers_images_and_not_those_of_other_images_on_the_node()
    {
        // Another image on the node, with a layer of its own that no container of this pod uses.
        using (var pusher = new RegistryPusher(_pod.Registry))
        {
            var layer = new TestLayer().Directory("other").Text("other/marker", "another tenant's image").Build();
            await pusher.PushImageAsync("hostile/other", "1", [layer], new JsonObject { ["Cmd"] = new JsonArray("/bin/sh") });
        }

        var other = await _pod.Client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = $"{_pod.Registry.Host}/hostile/other:1" } });
        var id = await RunTenantAsync("tenant-layers", null);
        try
        {
            var seen = (await InVmAsync(id, "ls /pod/layers; ls -d /layers 2>/dev/null || echo no-node-layers")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var node = Directory.EnumerateDirectories(Path.Combine(_pod.Dir.Root, "images", "layers", "sha256")).Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
            var own = await OwnLayersAsync(id);

            Assert.Equal("no-node-layers", seen[^1]);
            Assert.Equal(own.Order(StringComparer.Ordinal), seen[..^1].Order(StringComparer.Ordinal));
            Assert.True(node.Count > own.Count, "the node has layers this pod does not use");
            Assert.NotNull(other.ImageRef);
        }
        finally
        {
            await StopAndRemoveAsync(id);
        }
    }

    [Fact]
    public async Task Swapping_directories_for_links_in_a_volume_while_its_container_is_removed_touches_nothing_outside_it()
    {
        var secret = Directory.CreateDirectory(Path.Combine(_pod.Dir.Path, "host-secret")).FullName;
        await File.WriteAllTextAsync(Path.Combine(secret, "key"), "host only");
        var volume = Directory.CreateDirectory(Path.Combine(_pod.Dir.Path, "swap-volume")).FullName;
        var id = await RunTenantAsync("tenant-swap", volume);
        // Inside its volume the tenant turns a directory tree into links to the host's secret and
        // back, over and over (a bounded number of times, so as not to slow the shared pod VM for
        // the tests after it), while the agent removes the container.
        await InVmAsync(id, $"cd /pod/volumes/*/0 && mkdir -p tree/sub && touch tree/sub/f && (i=0; while [ $i -lt 400 ]; do mv tree t2; ln -s {secret} tree; rm tree; mv t2 tree; ln -sf {secret}/key tree/sub/f; i=$((i+1)); done) >/dev/null 2>&1 & echo started");
        await Task.Delay(TimeSpan.FromSeconds(1));

        await StopAndRemoveAsync(id);

        Assert.Equal("host only", await File.ReadAllTextAsync(Path.Combine(secret, "key")));
        Assert.True(Directory.Exists(volume), "the volume itself stays");
        Assert.DoesNotContain(File.ReadLines("/proc/self/mountinfo"), line => line.Contains(id, StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(PodDirectory, "tree", "volumes", id)));
    }

    [Fact]
    public async Task The_kubelets_log_directory_is_nowhere_in_the_vm_and_the_log_file_is_the_hosts_own()
    {
        var config = _pod.Container("tenant-logs", "sh", "-c", "echo from the tenant; sleep 600");
        config.Linux = new LinuxContainerConfig { SecurityContext = new LinuxContainerSecurityContext { Privileged = true, NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Pod } } };
        var id = await _pod.RunAsync(config);
        try
        {
            // All the host file system a root tenant can reach: the share, which holds no log directory.
            var top = await InVmAsync(id, "ls /pod; grep ' 9p ' /proc/mounts | grep -c .");
            var seen = top.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("1", seen[^1]);
            Assert.Contains("layers", seen);
            Assert.All(seen[..^1], name => Assert.Contains(name, ShareTop));
            await _pod.WaitForLogAsync(config, l => l.Count >= 1, ContainerPod.Slow);

            var file = new FileInfo(_pod.HostLogPath(config));
            Assert.Null(file.LinkTarget);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, file.UnixFileMode);
            Assert.Equal("from the tenant", Assert.Single(await _pod.LogAsync(config)).Message);
        }
        finally
        {
            await StopAndRemoveAsync(id);
        }
    }

    [Fact]
    public async Task Flooding_the_serial_console_costs_the_host_at_most_a_few_rotated_files_of_2_MiB()
    {
        var id = await RunTenantAsync("tenant-console", null);
        try
        {
            // 5 MiB onto the VM's serial port, which the host keeps as the pod's console.log.
            await InVmAsync(id, "dd if=/dev/zero bs=65536 count=80 2>/dev/null | tr '\\0' x > /dev/ttyS0; echo done");

            var files = Directory.GetFiles(PodDirectory, "console.log*");
            Assert.All(files, f => Assert.True(new FileInfo(f).Length <= 2 * 1024 * 1024 + 65536, $"{f} is {new FileInfo(f).Length} bytes"));
            Assert.True(files.Length is >= 2 and <= 4, $"console files: {string.Join(", ", files.Select(Path.GetFileName))}");
        }
        finally
        {
            await StopAndRemoveAsync(id);
        }
    }

    /// <summary>How much the agent's resident memory may grow while one pod floods it: its windows (1 MiB of log, 256 KiB per stream), ExecSync's caps (4 MiB each of stdout and stderr) and the runtime's own slack.</summary>
    private const long FloodBoundBytes = 96L * 1024 * 1024;

    [Fact]
    public async Task Flooding_the_log_a_port_forward_and_an_exec_keeps_the_agents_memory_bounded_and_the_pod_answering()
    {
        var before = AgentRss();
        using var stopSampling = new CancellationTokenSource();
        var sampling = MostRssAsync(stopSampling.Token);
        // 64 MiB of output in one endless line (cut into 16 KiB parts), as fast as the VM writes.
        var flood = _pod.Container("flood-log", "sh", "-c", "dd if=/dev/zero bs=65536 count=1024 2>/dev/null | tr '\\0' x; sleep 600");
        var flooder = await _pod.RunAsync(flood);
        // A server that sends without end to a port-forward client that reads nothing.
        var server = await _pod.RunAsync(_pod.Container("flood-port", "sh", "-c", "dd if=/dev/zero bs=65536 2>/dev/null | nc -l -p 9000"));
        var url = (await _pod.Runtime.PortForwardAsync(new PortForwardRequest { PodSandboxId = _pod.PodId, Port = { 9000 } })).Url;
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("portforward.k8s.io");
        await Task.Delay(TimeSpan.FromSeconds(1)); // nc listening
        await socket.ConnectAsync(new Uri(url.Replace("http://", "ws://", StringComparison.Ordinal)), CancellationToken.None);
        try
        {
            // An exec that writes 25 MiB to each of stdout and stderr.
            var exec = await _pod.ExecAsync(flooder, 120, "sh", "-c", "dd if=/dev/zero bs=65536 count=400 2>/dev/null; dd if=/dev/zero bs=65536 count=400 >&2 2>/dev/null");
            await Task.Delay(TimeSpan.FromSeconds(5));
            await stopSampling.CancelAsync();
            var most = await sampling;

            Assert.True(exec.Stdout.Length <= 4 * 1024 * 1024 + 1024, $"ExecSync kept {exec.Stdout.Length} bytes of stdout");
            Assert.True(most - before < FloodBoundBytes, $"the agent grew from {before >> 20} MiB to {most >> 20} MiB while flooded");
            var still = await _pod.ExecAsync(flooder, 60, "echo", "still here");
            Assert.Equal("still here\n", still.Stdout.ToStringUtf8());
            var logged = new FileInfo(_pod.HostLogPath(flood)).Length;
            Assert.True(logged > 1024 * 1024, $"the log is written meanwhile ({logged} bytes)");
        }
        finally
        {
            socket.Abort();
            await StopAndRemoveAsync(server);
            await StopAndRemoveAsync(flooder);
        }
    }

    /// <summary>The most the agent's resident memory was, sampled every 100 ms until cancelled.</summary>
    private async Task<long> MostRssAsync(CancellationToken cancellationToken)
    {
        long most = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            most = Math.Max(most, AgentRss());
            try
            {
                await Task.Delay(100, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return most;
    }

    /// <summary>The agent's resident memory, bytes (VmRSS).</summary>
    private long AgentRss()
    {
        var line = File.ReadLines($"/proc/{_pod.Daemon.Pid}/status").Single(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    /// <summary>A privileged container of the test image in the pod's PID namespace (PID 1 is CRX), sleeping; with a writable volume at /data when asked.</summary>
    private async Task<string> RunTenantAsync(string name, string? volume)
    {
        var config = _pod.Container(name, "sleep", "600");
        config.Linux = new LinuxContainerConfig
        {
            SecurityContext = new LinuxContainerSecurityContext
            {
                Privileged = true,
                NamespaceOptions = new NamespaceOption { Pid = NamespaceMode.Pod },
            },
        };
        if (volume is not null)
        {
            config.Mounts.Add(new Mount { ContainerPath = "/data", HostPath = volume });
        }

        return await _pod.RunAsync(config);
    }

    /// <summary>Runs <paramref name="script"/> in the VM's own mount namespace (PID 1's), as root; returns its stdout.</summary>
    private async Task<string> InVmAsync(string id, string script)
    {
        var result = await _pod.ExecAsync(id, 60, "nsenter", "-t", "1", "-m", "--", "sh", "-c", script);
        Assert.True(result.ExitCode == 0, $"exit {result.ExitCode}: {result.Stderr.ToStringUtf8()}");
        return result.Stdout.ToStringUtf8();
    }

    /// <summary>The layers of the images of the pod's containers, by their names in the store.</summary>
    private async Task<HashSet<string>> OwnLayersAsync(string anyContainer)
    {
        var containers = await _pod.Runtime.ListContainersAsync(new ListContainersRequest { Filter = new ContainerFilter { PodSandboxId = _pod.PodId } });
        var layers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var container in containers.Containers.Select(c => c.Id).Append(anyContainer).Distinct(StringComparer.Ordinal))
        {
            var status = await _pod.Runtime.ContainerStatusAsync(new ContainerStatusRequest { ContainerId = container, Verbose = true });
            var info = JsonNode.Parse(status.Info["info"])!;
            foreach (var layer in info["imageLayers"]!.AsArray())
            {
                layers.Add(Path.GetFileName((string)layer!));
            }
        }

        return layers;
    }

    /// <summary>Every entry below the pod directory and the mounts below it, as the host sees them.</summary>
    private List<string> HostTree() =>
        [
            .. Directory.EnumerateFileSystemEntries(Path.Combine(PodDirectory, "tree"), "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
                .Select(p => $"{p} {new FileInfo(p).UnixFileMode}")
                .Order(StringComparer.Ordinal),
            .. File.ReadLines("/proc/self/mountinfo").Select(l => l.Split(' ')[4]).Where(m => m.StartsWith(PodDirectory, StringComparison.Ordinal)).Order(StringComparer.Ordinal),
        ];

    private async Task StopAndRemoveAsync(string id)
    {
        await _pod.Runtime.StopContainerAsync(new StopContainerRequest { ContainerId = id, Timeout = 1 });
        await _pod.RemoveAsync(id);
    }
}
