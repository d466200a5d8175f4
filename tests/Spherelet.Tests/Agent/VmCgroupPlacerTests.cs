using Microsoft.Extensions.Logging.Abstractions;
using Spherelet.Agent.Cgroups;
using Spherelet.Domain.Node;
using Spherelet.Domain.Vmm;

namespace Spherelet.Tests.Agent;

/// <summary>
/// Where a pod VM's processes go: cgroup hierarchies read from mountinfo, systemd slice paths,
/// and the placement itself on a cgroup tree made of plain directories (no root needed).
/// </summary>
public sealed class VmCgroupPlacerTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("spherelet-cgroups-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Mountinfo_of_a_hybrid_host_gives_each_v1_hierarchy_and_the_unified_one()
    {
        var hierarchies = CgroupHierarchy.Parse(
            "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
            + "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
            + "33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
            + "34 30 0:31 /process_api /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
            + "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
            + "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
            + "41 30 0:28 / /mnt/cpu\\040again rw,relatime - cgroup cgroup rw,cpu\n");

        Assert.Equal(["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"], hierarchies.Select(h => h.MountPoint));
        Assert.True(hierarchies[^1].Unified);
        Assert.True(hierarchies[3].Has("name=systemd"));
        Assert.Equal("/sys/fs/cgroup/cpu/kubepods/pod1", hierarchies[0].Directory("/kubepods/pod1"));
        // A mount of a sub-tree shows only what is under its root.
        Assert.Null(hierarchies[2].Directory("/kubepods/pod1"));
        Assert.Equal("/sys/fs/cgroup/memory/x", hierarchies[2].Directory("/process_api/x"));
    }

    [Theory]
    [InlineData("kubepods.slice", "/kubepods.slice")]
    [InlineData("kubepods-burstable-pod0b1c_2d3e.slice", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0b1c_2d3e.slice")]
    [InlineData("-.slice", "/")]
    public void A_slice_name_expands_into_its_cgroup_path(string slice, string path) =>
        Assert.Equal(path, SystemdSlices.CgroupPath(slice));

    [Fact]
    public void The_leaf_is_under_the_pod_cgroup_for_both_drivers()
    {
        Assert.Equal("/kubepods/burstable/pod1/spherelet-sph-0123456789ab", VmCgroupPlacer.LeafPath("sph-0123456789ab", new VmCgroup(CgroupDriver.Cgroupfs, "/kubepods/burstable/pod1", 0)));
        Assert.Equal(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/spherelet-sph-0123456789ab.scope",
            VmCgroupPlacer.LeafPath("sph-0123456789ab", new VmCgroup(CgroupDriver.Systemd, "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice", 0)));
        Assert.Equal(
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/spherelet-sph-0123456789ab.scope",
            VmCgroupPlacer.LeafPath("sph-0123456789ab", new VmCgroup(CgroupDriver.Systemd, "kubepods-burstable-pod1.slice", 0)));
    }

    [Theory]
    [InlineData(2, 1)]
    [InlineData(1024, 39)]
    [InlineData(262144, 10000)]
    public void Shares_become_the_v2_weight_as_the_kubelet_converts_them(long shares, long weight) =>
        Assert.Equal(weight, VmCgroupPlacer.SharesToWeight(shares));

    [Fact]
    public void Proc_cgroup_gives_the_unified_path_or_else_the_cpu_one()
    {
        Assert.Equal("/kubepods/pod1/spherelet-x", VmCgroupPlacer.ParseProcCgroup("1:cpu,cpuacct:/kubepods/pod1/spherelet-x\n0::/kubepods/pod1/spherelet-x\n"));
        Assert.Equal("/kubepods/pod1/spherelet-x", VmCgroupPlacer.ParseProcCgroup("2:cpuacct:/\n1:cpu:/kubepods/pod1/spherelet-x\n0::/\n"));
    }

    [Fact]
    public async Task Placing_makes_the_leaf_in_every_hierarchy_with_the_parents_cpuset_sets_the_weight_and_moves_the_process()
    {
        var cpu = Hierarchy("cpu", "cpu.shares");
        var cpuset = Hierarchy("cpuset", "cpuset.cpus", "cpuset.mems");
        var unified = Hierarchy("unified", "cpu.weight");
        File.WriteAllText(Path.Combine(cpuset, "cpuset.cpus"), "0-3\n");
        File.WriteAllText(Path.Combine(cpuset, "cpuset.mems"), "0\n");
        var placer = Placer(
            $"31 30 0:28 / {cpu} rw - cgroup cgroup rw,cpu\n32 30 0:29 / {cpuset} rw - cgroup cgroup rw,cpuset\n40 30 0:37 / {unified} rw - cgroup2 cgroup2 rw\n",
            makesFiles: ["cpu.shares", "cpuset.cpus", "cpuset.mems", "cpu.weight", "cgroup.procs"]);

        await placer.PlaceAsync(4242, "sph-0123456789ab", new VmCgroup(CgroupDriver.Cgroupfs, "/kubepods/burstable/pod1", 1024, CpusetCpus: "2-3"), CancellationToken.None);

        var leaf = "kubepods/burstable/pod1/spherelet-sph-0123456789ab";
        Assert.Equal("4242", File.ReadAllText(Path.Combine(cpu, leaf, "cgroup.procs")));
        Assert.Equal("4242", File.ReadAllText(Path.Combine(unified, leaf, "cgroup.procs")));
        Assert.Equal("1024", File.ReadAllText(Path.Combine(cpu, leaf, "cpu.shares")));
        Assert.Equal("39", File.ReadAllText(Path.Combine(unified, leaf, "cpu.weight")));
        // Made parents took the root's CPUs and nodes; the leaf got the pod's cpuset.
        Assert.Equal("0-3", File.ReadAllText(Path.Combine(cpuset, "kubepods/burstable", "cpuset.cpus")));
        Assert.Equal("2-3", File.ReadAllText(Path.Combine(cpuset, leaf, "cpuset.cpus")));
        Assert.Equal("0", File.ReadAllText(Path.Combine(cpuset, leaf, "cpuset.mems")));

        // Removing takes the leaf away (a real cgroup directory is empty of files once its processes are gone).
        foreach (var hierarchy in new[] { cpu, cpuset, unified })
        {
            foreach (var file in Directory.GetFiles(Path.Combine(hierarchy, leaf)))
            {
                File.Delete(file);
            }
        }

        await placer.RemoveAsync("sph-0123456789ab", new VmCgroup(CgroupDriver.Cgroupfs, "/kubepods/burstable/pod1", 1024), CancellationToken.None);
        Assert.False(Directory.Exists(Path.Combine(cpu, leaf)));
        Assert.True(Directory.Exists(Path.Combine(cpu, "kubepods/burstable/pod1")));
    }

    private string Hierarchy(string name, params string[] files)
    {
        var directory = Path.Combine(_root, name);
        Directory.CreateDirectory(directory);
        foreach (var file in files)
        {
            File.WriteAllText(Path.Combine(directory, file), string.Empty);
        }

        return directory;
    }

    /// <summary>A placer on a tree of plain directories; a watcher gives each new directory the files a kernel would show in it.</summary>
    private VmCgroupPlacer Placer(string mountinfo, string[] makesFiles)
    {
        var file = Path.Combine(_root, "mountinfo");
        File.WriteAllText(file, mountinfo);
        return new VmCgroupPlacer(NullLogger<VmCgroupPlacer>.Instance, file, "/proc", directory =>
        {
            foreach (var name in makesFiles)
            {
                File.WriteAllText(Path.Combine(directory, name), string.Empty);
            }
        });
    }
}
