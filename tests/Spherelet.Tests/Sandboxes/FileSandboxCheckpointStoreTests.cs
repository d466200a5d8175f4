using Spherelet.Agent.Sandboxes;
using Spherelet.Domain.Node;
using Spherelet.Domain.Sandboxes;
using Spherelet.Domain.Vmm;

namespace Spherelet.Tests.Sandboxes;

/// <summary>Sandbox checkpoints on disk: what a pod VM holds on the host (its cgroup, its disks) survives an agent restart.</summary>
public sealed class FileSandboxCheckpointStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("spherelet-sandbox-checkpoints-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_sandbox_with_its_cgroup_and_disks_loads_back()
    {
        var layout = new SandboxLayout(Path.Combine(_root, "lib"), Path.Combine(_root, "run"));
        var store = new FileSandboxCheckpointStore(layout);
        var id = new string('1', 64);
        Directory.CreateDirectory(layout.PodDirectory(id));
        var saved = new PodSandbox
        {
            Id = id,
            Metadata = new PodSandboxMetadata("web", "shop", "u1", 0),
            Labels = new Dictionary<string, string>(),
            Annotations = new Dictionary<string, string>(),
            RuntimeHandler = "default",
            CreatedAt = 1,
            State = SandboxState.Ready,
            VmName = "sph-111111111111",
            VmUuid = Guid.NewGuid(),
            VirtualCpus = 1,
            MemoryMiB = 256,
            Cgroup = new VmCgroup(CgroupDriver.Systemd, "/kubepods.slice/kubepods-pod1.slice", 1024, "2-3", "0"),
            BlockDeviceSlots = 2,
            Disks = [new PodDisk(new VmDisk("/dev/loop7", "sph0011223344556677", "vdb", ReadOnly: true), ["c1", "c2"])],
            Hostname = "web",
            Dns = DnsSettings.None,
            LogDirectory = "/var/log/pods/shop_web_u1",
            Guest = new GuestInfo("1", "6.1", 100),
        };

        await store.SaveAsync(saved, CancellationToken.None);
        var (loaded, problems) = await store.LoadAllAsync(CancellationToken.None);

        Assert.Empty(problems);
        var sandbox = Assert.Single(loaded);
        Assert.Equal(saved.Cgroup, sandbox.Cgroup);
        var disk = Assert.Single(sandbox.Disks);
        Assert.Equal(saved.Disks[0].Disk, disk.Disk);
        Assert.Equal(["c1", "c2"], disk.Users);
        Assert.Equal(2, sandbox.BlockDeviceSlots);
    }
}
