using Grpc.Core;
using Runtime.V1;

namespace Spherelet.IntegrationTests.Images;

/// <summary>CRI ImageService of the real daemon against a real registry (docker-registry on 127.0.0.1).</summary>
public sealed class ImageServiceTests : IClassFixture<TestRegistry>, IDisposable
{
    private readonly TestRegistry _registry;
    private readonly TestDirectory _dir = new();

    public ImageServiceTests(TestRegistry registry)
    {
        _registry = registry;
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task PullImage_ImageStatus_ListImages_RemoveImage_and_ImageFsInfo_work_through_cri()
    {
        using var daemon = DaemonProcess.Start(_dir);
        using var client = await daemon.ConnectAsync();

        var pulled = await client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = _registry.Busybox } });
        var status = await client.Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = _registry.Busybox }, Verbose = true });
        var listed = await client.Images.ListImagesAsync(new ListImagesRequest());
        var filtered = await client.Images.ListImagesAsync(new ListImagesRequest { Filter = new ImageFilter { Image = new ImageSpec { Image = _registry.Layered } } });
        var fs = await client.Images.ImageFsInfoAsync(new ImageFsInfoRequest());

        Assert.Equal(_registry.BusyboxId, pulled.ImageRef);
        Assert.Equal(_registry.BusyboxId, status.Image.Id);
        Assert.Equal([_registry.Busybox], status.Image.RepoTags);
        Assert.Equal(1000, status.Image.Uid.Value);
        Assert.True(status.Image.Size > 1_000_000UL);
        Assert.Contains("\"cmd\":[\"/bin/sh\"]", status.Info["info"], StringComparison.Ordinal);
        Assert.Equal(_registry.BusyboxId, Assert.Single(listed.Images).Id);
        Assert.Empty(filtered.Images);
        var usage = Assert.Single(fs.ImageFilesystems);
        Assert.True(usage.UsedBytes.Value > 1_000_000UL, $"used bytes {usage.UsedBytes.Value}");
        Assert.True(usage.InodesUsed.Value > 5UL);
        Assert.StartsWith(_dir.Root, usage.FsId.Mountpoint, StringComparison.Ordinal);

        await client.Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = pulled.ImageRef } });
        await client.Images.RemoveImageAsync(new RemoveImageRequest { Image = new ImageSpec { Image = pulled.ImageRef } });
        var gone = await client.Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = _registry.Busybox } });
        Assert.Null(gone.Image);
        Assert.Empty((await client.Images.ListImagesAsync(new ListImagesRequest())).Images);
    }

    [Fact]
    public async Task Bad_and_missing_images_get_clear_status_codes()
    {
        using var daemon = DaemonProcess.Start(_dir);
        using var client = await daemon.ConnectAsync();

        var invalid = await Assert.ThrowsAsync<RpcException>(() => client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = "Not A Reference" } }).ResponseAsync);
        var empty = await Assert.ThrowsAsync<RpcException>(() => client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec() }).ResponseAsync);
        var missing = await Assert.ThrowsAsync<RpcException>(() => client.Images.PullImageAsync(new PullImageRequest { Image = new ImageSpec { Image = $"{_registry.Server.Host}/tests/nothing:1" } }).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, invalid.StatusCode);
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Empty((await client.Images.ListImagesAsync(new ListImagesRequest())).Images);
    }
}
