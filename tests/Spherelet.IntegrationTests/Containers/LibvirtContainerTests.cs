using Runtime.V1;

namespace Spherelet.IntegrationTests.Containers;

/// <summary>
/// What only the libvirt backend's pod VMs do, whatever the default handler's backend: growing a
/// running VM with hot-plugged vCPUs and virtio-mem memory. Needs what <see cref="ContainerPod"/> needs.
/// </summary>
[Collection(ContainerPod.Collection)]
public sealed class LibvirtContainerTests : IClassFixture<LibvirtContainerPod>
{
    private const long MiB = 1024 * 1024;

    private readonly LibvirtContainerPod _pod;

    public LibvirtContainerTests(LibvirtContainerPod pod)
    {
        _pod = pod;
    }

    [Fact]
    public async Task UpdateContainerResources_past_what_the_pod_vm_has_grows_the_vm_with_hot_plugged_cpus_and_memory()
    {
        var id = await _pod.RunAsync(_pod.Container("grown", "sleep", "1000"));
        try
        {
            var before = await VmSizeAsync();

            var totalBefore = await GuestMemTotalMiBAsync(id);

            // More CPU than the VM has vCPUs, and a memory limit that with the handler's profile (256 MiB)
            // needs 64 MiB more than the VM has (memory growth is on by default, up to the host's memory).
            var cores = before.Cpus + 1;
            await _pod.Runtime.UpdateContainerResourcesAsync(new UpdateContainerResourcesRequest
            {
                ContainerId = id,
                Linux = new LinuxContainerResources { CpuQuota = cores * 100_000, CpuPeriod = 100_000, MemoryLimitInBytes = (before.MemoryMiB - 256 + 64) * MiB },
            });

            // The guest's virtio-mem driver plugs the memory as it gets to it: the guest's own MemTotal shows it.
            var after = await VmSizeAsync();
            var totalAfter = await GuestMemTotalMiBAsync(id);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (totalAfter < totalBefore + 60 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(500);
                totalAfter = await GuestMemTotalMiBAsync(id);
            }

            var online = (await _pod.ExecAsync(id, 30, "cat", "/sys/devices/system/cpu/online")).Stdout.ToStringUtf8().Trim();
            var cpuMax = (await _pod.ExecAsync(id, 30, "cat", "/sys/fs/cgroup/cpu.max")).Stdout.ToStringUtf8().Trim();

            Assert.True(after.Cpus >= cores, $"vCPUs {before.Cpus} -> {after.Cpus}, wanted {cores}");
            Assert.True(totalAfter >= totalBefore + 60, $"the guest's MemTotal {totalBefore} -> {totalAfter} MiB (64 MiB plugged)");
            Assert.Equal($"0-{after.Cpus - 1}", online); // the hot-plugged vCPUs are online in the VM
            Assert.Equal($"{cores * 100_000} 100000", cpuMax);
        }
        finally
        {
            // Its limits count towards the pod VM's size for as long as it lives.
            await _pod.RemoveAsync(id);
        }
    }

    /// <summary>MemTotal of the pod VM's kernel, in MiB.</summary>
    private async Task<long> GuestMemTotalMiBAsync(string containerId)
    {
        var meminfo = (await _pod.ExecAsync(containerId, 30, "cat", "/proc/meminfo")).Stdout.ToStringUtf8();
        var line = meminfo.Split('\n').First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        return long.Parse(line["MemTotal:".Length..].Replace("kB", string.Empty, StringComparison.Ordinal).Trim(), System.Globalization.CultureInfo.InvariantCulture) / 1024;
    }

    /// <summary>The pod VM's vCPUs and memory as libvirt reports them (PodSandboxStatus verbose).</summary>
    private async Task<(int Cpus, long MemoryMiB)> VmSizeAsync()
    {
        var status = await _pod.Runtime.PodSandboxStatusAsync(new PodSandboxStatusRequest { PodSandboxId = _pod.PodId, Verbose = true });
        var info = System.Text.Json.JsonDocument.Parse(status.Info["info"]).RootElement;
        return (info.GetProperty("vcpus").GetInt32(), info.GetProperty("memoryMiB").GetInt64());
    }
}
