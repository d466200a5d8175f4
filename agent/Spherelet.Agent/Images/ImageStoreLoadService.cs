using Microsoft.Extensions.Hosting;
using Spherelet.Images;

namespace Spherelet.Agent.Images;

/// <summary>Reloads the image records before the CRI socket serves, and collects what a crash left unreferenced.</summary>
public sealed class ImageStoreLoadService : IHostedService
{
    private readonly ImageManager _images;

    public ImageStoreLoadService(ImageManager images)
    {
        _images = images;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _images.LoadAsync(cancellationToken);
        await _images.CollectGarbageAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
