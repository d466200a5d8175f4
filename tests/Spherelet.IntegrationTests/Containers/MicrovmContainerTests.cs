using Grpc.Core;
using Runtime.V1;

namespace Spherelet.IntegrationTests.Containers;

/// <summary>
/// Containers in a pod VM of the microvm backend: its QEMU jailed, as root of a user namespace with
/// no capability, over an idmapped share. Needs what <see cref="ContainerPod"/> needs, and setpriv
/// and nsenter (util-linux).
/// </summary>
[Collection(ContainerPod.Collection)]
public sealed class MicrovmContainerTests : IClassFixture<MicrovmContainerPod>, IDisposable
{
    private readonly MicrovmContainerPod _pod;
    private readonly string _hostDirectory;

    public MicrovmContainerTests(MicrovmContainerPod pod)
    {
        _pod = pod;
        _hostDirectory = Path.Combine(pod.Dir.Path, "host-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_hostDirectory);
    }

    public void Dispose() => Directory.Delete(_hostDirectory, recursive: true);

    [Fact]
    public async Task A_container_runs_logs_and_execs_in_a_jailed_microvm()
    {
        var config = _pod.Container("micro-run", "sh", "-c", "echo hello from a microvm; exec sleep 600");
        var id = await _pod.RunAsync(config);

        var lines = await _pod.WaitForLogAsync(config, l => l.Count >= 1);
        var exec = await _pod.ExecAsync(id, 30, "id", "-u");

        Assert.Equal("hello from a microvm", lines[0].Message);
        Assert.Equal(0, exec.ExitCode);
        Assert.Equal("0\n", exec.Stdout.ToStringUtf8());
        Assert.NotNull(Sandboxes.Microvms.QemuPid("sph-" + _pod.PodId[..12]));
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task Through_the_idmapped_share_root_owned_volumes_are_writable_and_every_file_keeps_its_host_owner()
    {
        // A root-owned directory of mode 0755 with a file of the host's root (0600) and one of uid 1000.
        File.WriteAllText(Path.Combine(_hostDirectory, "root-only"), "root's secret\n");
        File.SetUnixFileMode(Path.Combine(_hostDirectory, "root-only"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(_hostDirectory, "users"), "a user's\n");
        HostTool.Run("/usr/bin/chown", "1000:1000", Path.Combine(_hostDirectory, "users"));
        var config = _pod.Container(
            "micro-volume", "sh", "-c",
            "cat /mnt/v/root-only && stat -c '%u:%g %a' /mnt/v/root-only /mnt/v/users && echo made in the vm > /mnt/v/made && stat -c '%u:%g' /mnt/v/made");
        config.Mounts.Add(new Mount { ContainerPath = "/mnt/v", HostPath = _hostDirectory, Readonly = false });

        var id = await _pod.RunAsync(config);
        var exit = await _pod.WaitUntilExitedAsync(id);
        var lines = (await _pod.WaitForLogAsync(config, l => l.Count >= 4)).Select(l => l.Message).ToList();

        Assert.Equal(0, exit.ExitCode);
        Assert.Equal(["root's secret", "0:0 600", "1000:1000 644", "0:0"], lines);
        Assert.Equal("made in the vm\n", File.ReadAllText(Path.Combine(_hostDirectory, "made")));
        Assert.Equal("0:0", HostTool.Run("/usr/bin/stat", "-c", "%u:%g", Path.Combine(_hostDirectory, "made")).Trim());
        await _pod.RemoveAsync(id);
    }

    [Fact]
    public async Task A_limit_within_a_microvm_caps_without_growth_and_one_past_it_is_failed_precondition_naming_the_way_out()
    {
        var id = await _pod.RunAsync(_pod.Container("micro-grow", "sleep", "600"));
        await _pod.Runtime.UpdateContainerResourcesAsync(new UpdateContainerResourcesRequest
        {
            ContainerId = id,
            Linux = new LinuxContainerResources { MemoryLimitInBytes = 64L * 1024 * 1024 },
        });
        Assert.Equal(64L * 1024 * 1024, (await _pod.StatusAsync(id)).Resources.Linux.MemoryLimitInBytes);

        var refused = await Assert.ThrowsAsync<RpcException>(() => _pod.Runtime.UpdateContainerResourcesAsync(new UpdateContainerResourcesRequest
        {
            ContainerId = id,
            Linux = new LinuxContainerResources { MemoryLimitInBytes = 8L * 1024 * 1024 * 1024 },
        }).ResponseAsync);

        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("microvm", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("libvirt", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(ContainerState.ContainerRunning, (await _pod.StatusAsync(id)).State);
        await _pod.RemoveAsync(id);
    }
}
