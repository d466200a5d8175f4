using System.Diagnostics;
using Runtime.V1;

namespace Spherelet.IntegrationTests.Sandboxes;

/// <summary>
/// Pods on the microvm backend (QEMU run directly and jailed), side by side with libvirt pods,
/// through CRI against the real daemon. Needs root, libvirtd at qemu:///system, setpriv and nsenter
/// (util-linux) and the built guest, PVH kernel included (scripts/setup).
/// </summary>
public sealed class MicrovmSandboxTests : IDisposable
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(120);
    private static readonly string[] FastPods = ["fast-a", "fast-b", "fast-c"];
    private static readonly string[] Namespaces = ["mnt", "net", "ipc", "uts"];
    private readonly TestDirectory _dir = new();

    public void Dispose()
    {
        PodVms.RemoveAllAsync(_dir).GetAwaiter().GetResult();
        _dir.Dispose();
    }

    private static Dictionary<string, string> Environment()
    {
        var environment = SandboxDaemon.Environment();
        environment["SPHERELET__RUNTIMEHANDLERS__fast__VMM"] = "microvm";
        environment["SPHERELET__RUNTIMEHANDLERS__virsh__VMM"] = "libvirt";
        return environment;
    }

    [Fact]
    public async Task Microvm_pods_run_jailed_beside_libvirt_pods_survive_an_agent_kill_and_leave_nothing()
    {
        string[] fast;
        string plain;
        using (var first = DaemonProcess.Start(_dir, Environment()))
        {
            using var client = await first.ConnectAsync();
            await SandboxDaemon.ListWhenRecoveredAsync(client, Recovery);
            // Started at once: each start must not wait on another VM that is starting.
            fast = await Task.WhenAll(FastPods.Select(async name =>
                (await client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = SandboxDaemon.Pod(name), RuntimeHandler = "fast" })).PodSandboxId));
            plain = (await client.Runtime.RunPodSandboxAsync(new RunPodSandboxRequest { Config = SandboxDaemon.Pod("plain"), RuntimeHandler = "virsh" })).PodSandboxId;

            var status = await client.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = fast[0], Verbose = true });
            Assert.Equal(PodSandboxState.SandboxReady, status.Status.State);
            Assert.Equal("microvm", System.Text.Json.JsonDocument.Parse(status.Info["info"]).RootElement.GetProperty("vmm").GetString());
            Assert.Null(Microvms.QemuPid(VmName(plain)));
            // libvirt's QEMU (root, for 9p passthrough) runs under libvirt's seccomp sandbox, with the same denials.
            var libvirtQemu = Microvms.AnyQemuPid(VmName(plain));
            var libvirtArguments = File.ReadAllText($"/proc/{libvirtQemu}/cmdline").Split('\0');
            Assert.Contains("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny", libvirtArguments[Array.IndexOf(libvirtArguments, "-sandbox") + 1], StringComparison.Ordinal);

            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var id in fast)
            {
                var pid = Microvms.QemuPid(VmName(id));
                Assert.True(pid is not null, $"no QEMU runs microvm {VmName(id)}\n{first.Output}");
                var qemu = Microvms.Status(pid.Value);
                var uids = qemu["Uid"].Split('\t', StringSplitOptions.RemoveEmptyEntries);
                var gids = qemu["Gid"].Split('\t', StringSplitOptions.RemoveEmptyEntries);
                Assert.All(uids.Concat(gids), v => Assert.NotEqual("0", v));
                Assert.True(ids.Add(uids[0]), $"two microvms share uid {uids[0]}");
                Assert.Equal("0000000000000000", qemu["CapEff"]);
                Assert.Equal("0000000000000000", qemu["CapPrm"]);
                Assert.Equal("0000000000000000", qemu["CapBnd"]);
                Assert.Equal("2", qemu["Seccomp"]);
                Assert.Equal("1", qemu["NoNewPrivs"]);
                foreach (var ns in Namespaces)
                {
                    Assert.NotEqual(NamespaceOf("self", ns), NamespaceOf(pid.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), ns));
                }

                // What QEMU itself could open: inside its namespaces with its ids, and with its ids on the host (a jail escape).
                var other = Path.Combine(_dir.Root, "pods", fast.First(f => f != id), "share");
                foreach (var path in new[] { "/etc/shadow", other, Path.Combine(other, "volumes") })
                {
                    var (inJail, inJailOutput) = await RunAsAsync(pid.Value, uids[0], gids[0], jailed: true, "/usr/bin/ls", "-la", path);
                    Assert.True(inJail != 0, $"in its jail, QEMU's user lists {path}: {inJailOutput}");
                    var (onHost, onHostOutput) = await RunAsAsync(pid.Value, uids[0], gids[0], jailed: false, "/usr/bin/cat", path);
                    Assert.True(onHost != 0, $"on the host, QEMU's user reads {path}: {onHostOutput}");
                }

                var (own, ownOutput) = await RunAsAsync(pid.Value, uids[0], gids[0], jailed: true, "/usr/bin/ls", "/pod", "/vm/kernel");
                Assert.True(own == 0, $"in its jail, QEMU's user cannot see its own share and kernel: {ownOutput}");

                // Nothing in its jail is writable to it: not its root, its kernel, its share, nor /usr.
                foreach (var path in new[] { "/x", "/vm/x", "/pod/x", "/usr/x", "/dev/x", "/proc/x" })
                {
                    var (made, madeOutput) = await RunAsAsync(pid.Value, uids[0], gids[0], jailed: true, "/usr/bin/touch", path);
                    Assert.True(made != 0, $"in its jail, QEMU's user made {path}: {madeOutput}");
                }
            }

            first.Kill();
        }

        using var second = DaemonProcess.Start(_dir, Environment());
        using var again = await second.ConnectAsync();
        var recovered = await SandboxDaemon.ListWhenRecoveredAsync(again, Recovery);
        Assert.Equal(fast.Append(plain).Order(), recovered.Items.Select(p => p.Id).Order());
        Assert.True(recovered.Items.All(p => p.State == PodSandboxState.SandboxReady), second.Output);
        Assert.Contains("guests_reconnected=4", second.Output, StringComparison.Ordinal);

        // A microvm whose QEMU dies outside Spherelet turns its pod NOTREADY, as a destroyed domain does.
        Process.GetProcessById(Microvms.QemuPid(VmName(fast[0]))!.Value).Kill();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        PodSandboxState state;
        do
        {
            await Task.Delay(100);
            state = (await again.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = fast[0] })).Status.State;
        }
        while (state == PodSandboxState.SandboxReady && DateTime.UtcNow < deadline);

        Assert.Equal(PodSandboxState.SandboxNotready, state);
        Assert.Equal(PodSandboxState.SandboxReady, (await again.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = fast[1] })).Status.State);

        foreach (var id in fast.Append(plain))
        {
            await again.Runtime.RemovePodSandboxAsync(new RemovePodSandboxRequest { PodSandboxId = id });
        }

        Assert.Empty((await again.Runtime.ListPodSandboxAsync(new ListPodSandboxRequest())).Items);
        Assert.All(fast, id => Assert.Null(Microvms.QemuPid(VmName(id))));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_dir.Root, "pods")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(_dir.State, "vm")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_dir.State, "microvm")));
    }

    private static string VmName(string sandboxId) => "sph-" + sandboxId[..12];

    private static string NamespaceOf(string pid, string ns) => new FileInfo($"/proc/{pid}/ns/{ns}").LinkTarget ?? string.Empty;

    /// <summary>Runs a command as QEMU's uid and gid with no capabilities, in QEMU's mount and network namespaces or the host's.</summary>
    private static async Task<(int ExitCode, string Output)> RunAsAsync(int qemuPid, string uid, string gid, bool jailed, params string[] command)
    {
        var start = new ProcessStartInfo(jailed ? "/usr/bin/nsenter" : "/usr/bin/setpriv") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (jailed)
        {
            foreach (var argument in new[] { "--target", qemuPid.ToString(System.Globalization.CultureInfo.InvariantCulture), "--mount", "--net", "--", "/usr/bin/setpriv" })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in new[] { "--reuid=" + uid, "--regid=" + gid, "--clear-groups", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--" }.Concat(command))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
