using System.Text.Json.Nodes;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Runtime.V1;
using Spherelet.Cri.Oci;
using Spherelet.Crx.Protocol;
using Spherelet.Crx.Protocol.V1;
using Spherelet.Images.Store;
using Spherelet.Images.Unpacking;
using Spherelet.IntegrationTests.Images;

namespace Spherelet.IntegrationTests.Guest;

/// <summary>
/// A container root file system made by CRX in a real pod VM: an overlay of image layers the
/// host unpacked (bound read-only into the 9p pod share) with the container's own writable upper directory.
/// Needs root (layers keep owners and whiteout devices), qemu-system-x86_64 and the built guest.
/// </summary>
public sealed class GuestRootfsTests : IAsyncLifetime
{
    private readonly string _layers = Directory.CreateTempSubdirectory("sph-layers-").FullName;
    private GuestVm _vm = null!;
    private CrxClient _crx = null!;

    public async Task InitializeAsync()
    {
        var unpacker = new LayerUnpacker(NullLogger<LayerUnpacker>.Instance);
        await UnpackAsync(unpacker, "base", BusyboxLayer.Build().Blob);
        await UnpackAsync(unpacker, "etc", new TestLayer().Directory("etc").Text("etc/motd", "from the image\n").Directory("data").Text("data/old", "old").Build().Blob);
        await UnpackAsync(unpacker, "change", new TestLayer().Directory("bin").Whiteout("bin/true").Directory("data").Opaque("data").Text("data/new", "new").Build().Blob);
        _vm = GuestVm.Boot(_layers);
        _crx = await _vm.ConnectAsync();
    }

    public async Task DisposeAsync()
    {
        await _crx.DisposeAsync();
        await _vm.DisposeAsync();
        Directory.Delete(_layers, recursive: true);
    }

    [Fact]
    public async Task Overlay_rootfs_honours_whiteouts_and_keeps_writes_out_of_the_shared_layers()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _crx.CallAsync(new Request { ConfigureSandbox = new ConfigureSandbox { Hostname = "rootfs-pod" } }, timeout.Token);
        var spec = OciSpecBuilder.Build(new OciSpecInput
        {
            ContainerId = "rootfs1",
            Container = new ContainerConfig
            {
                Metadata = new ContainerMetadata { Name = "rootfs1" },
                Args = { "-c", "ls /bin/true 2>/dev/null || echo true-is-gone; cat /etc/motd; ls /data; echo written > /written; cat /written" },
            },
            Sandbox = new PodSandboxConfig(),
            Image = new ImageConfigInfo { Entrypoint = ["/bin/sh"] },
            RootfsPath = "/run/crx/rootfs/rootfs1",
            SandboxFilesDirectory = "/run/crx/sandbox",
            CgroupsPath = "/spherelet/rootfs1",
        });

        var process = await _crx.CreateAttachedAsync(new CreateContainer
        {
            ContainerId = "rootfs1",
            Bundle = "/run/bundles/rootfs1",
            OciSpec = ByteString.CopyFromUtf8(spec.ToJsonString()),
            Rootfs = new Rootfs { LowerDirs = { "/pod/layers/base", "/pod/layers/etc", "/pod/layers/change" } },
        }, timeout.Token);
        await _crx.CallAsync(new Request { StartContainer = new StartContainer { ContainerId = "rootfs1" } }, timeout.Token);
        var (stdout, stderr, exit) = await process.CollectAsync(timeout.Token);
        await _crx.CallAsync(new Request { RemoveContainer = new RemoveContainer { ContainerId = "rootfs1" } }, timeout.Token);

        Assert.True(exit.ExitCode == 0, stdout + stderr);
        Assert.Equal("true-is-gone\nfrom the image\nnew\nwritten\n", stdout);
        Assert.False(File.Exists(Path.Combine(_layers, "change", "written")));
        Assert.True(File.Exists(Path.Combine(_layers, "base", "bin", "true")) || new FileInfo(Path.Combine(_layers, "base", "bin", "true")).LinkTarget is not null);
    }

    [Fact]
    public async Task A_rootfs_with_a_missing_layer_is_refused_and_nothing_is_mounted()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var spec = new JsonObject { ["ociVersion"] = "1.0.2", ["root"] = new JsonObject { ["path"] = "/run/crx/rootfs/bad1" }, ["process"] = new JsonObject { ["args"] = new JsonArray("/bin/sh"), ["cwd"] = "/" } };

        var error = await Assert.ThrowsAsync<CrxCallException>(() => _crx.CallAsync(new Request
        {
            CreateContainer = new CreateContainer
            {
                ContainerId = "bad1",
                Bundle = "/run/bundles/bad1",
                OciSpec = ByteString.CopyFromUtf8(spec.ToJsonString()),
                Rootfs = new Rootfs { LowerDirs = { "/pod/layers/base", "/pod/layers/no-such-layer" } },
            },
        }, timeout.Token));

        Assert.Equal(CrxProtocol.Codes.InvalidArgument, error.Code);
        Assert.Contains("no-such-layer", error.Detail, StringComparison.Ordinal);
    }

    private async Task UnpackAsync(LayerUnpacker unpacker, string name, byte[] blob)
    {
        using var stream = new MemoryStream(blob);
        await unpacker.UnpackAsync(stream, Path.Combine(_layers, name), CancellationToken.None);
    }
}
