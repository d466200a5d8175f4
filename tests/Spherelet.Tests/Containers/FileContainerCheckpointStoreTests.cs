using Spherelet.Agent.Containers;
using Spherelet.Domain.Containers;
using Spherelet.Domain.Sandboxes;

namespace Spherelet.Tests.Containers;

/// <summary>Container checkpoints on disk: every field survives a round trip, and bad files are reported, not loaded.</summary>
public sealed class FileContainerCheckpointStoreTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("sph-ckpt-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private SandboxLayout Layout => new(Path.Combine(_root, "lib"), Path.Combine(_root, "run"));

    private static Container Sample(string id, string sandboxId) => new()
    {
        Id = id,
        SandboxId = sandboxId,
        Metadata = new ContainerMetadata("app", 2),
        Image = new ContainerImage("registry.test/app:1", "sha256:aa", "registry.test/app@sha256:bb", ["/layers/cc", "/layers/dd"]),
        Labels = new Dictionary<string, string> { ["tier"] = "web" },
        Annotations = new Dictionary<string, string> { ["note"] = "x" },
        LogPath = "app/2.log",
        HostLogPath = "/var/log/pods/p/app/2.log",
        Tty = true,
        Stdin = true,
        StdinOnce = false,
        Mounts = [new ContainerMount("/data", "/srv/data", true, MountPropagation.HostToContainer, "/pod/volumes/c/0")],
        HostCpuset = new HostCpuset("2-3", "0"),
        BlockDevices = ["/dev/loop7"],
        StopSignal = 3,
        ProcessJson = "{\"args\":[\"a\"]}",
        ResourcesJson = "{\"memory\":{\"limit\":5}}",
        State = ContainerState.Exited,
        CreatedAt = 1,
        StartedAt = 2,
        FinishedAt = 3,
        ExitCode = 137,
        Reason = Container.Reasons.OomKilled,
        Message = "killed by signal 9",
        Pid = 77,
    };

    [Fact]
    public async Task A_saved_container_loads_back_field_for_field_and_delete_removes_it()
    {
        var store = new FileContainerCheckpointStore(Layout);
        var sandboxId = new string('1', 64);
        var saved = Sample(new string('2', 64), sandboxId);

        await store.SaveAsync(saved, CancellationToken.None);
        var (loaded, problems) = await store.LoadAllAsync(CancellationToken.None);

        Assert.Empty(problems);
        var container = Assert.Single(loaded);
        Assert.Equal(Path.Combine(_root, "lib", "pods", sandboxId, "containers", saved.Id + ".json"), Layout.ContainerCheckpoint(sandboxId, saved.Id));
        Assert.Equal(saved with { Labels = container.Labels, Annotations = container.Annotations, Mounts = container.Mounts, Image = container.Image, BlockDevices = container.BlockDevices }, container);
        Assert.Equal(saved.BlockDevices, container.BlockDevices);
        Assert.Equal(saved.Labels, container.Labels);
        Assert.Equal(saved.Annotations, container.Annotations);
        Assert.Equal(saved.Mounts, container.Mounts);
        Assert.Equal(saved.Image.LayerDirectories, container.Image.LayerDirectories);
        Assert.Equal((saved.Image.Reference, saved.Image.Id, saved.Image.Ref), (container.Image.Reference, container.Image.Id, container.Image.Ref));

        await store.DeleteAsync(container, CancellationToken.None);
        Assert.Empty((await store.LoadAllAsync(CancellationToken.None)).Containers);
    }

    [Fact]
    public async Task Unreadable_or_misplaced_checkpoints_are_reported_and_left_alone()
    {
        var store = new FileContainerCheckpointStore(Layout);
        var sandboxId = new string('1', 64);
        await store.SaveAsync(Sample(new string('2', 64), sandboxId), CancellationToken.None);
        var directory = Layout.ContainersDirectory(sandboxId);
        File.Copy(Path.Combine(directory, new string('2', 64) + ".json"), Path.Combine(directory, new string('3', 64) + ".json"));
        await File.WriteAllTextAsync(Path.Combine(directory, new string('4', 64) + ".json"), "{ not json");

        var (loaded, problems) = await store.LoadAllAsync(CancellationToken.None);

        Assert.Single(loaded);
        Assert.Equal(2, problems.Count);
        Assert.Equal(3, Directory.EnumerateFiles(directory).Count());
    }
}
