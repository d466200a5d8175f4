using Microsoft.Extensions.Logging;
using Spherelet.Images;

namespace Spherelet.Cri;

/// <summary>
/// CRI ImageService. Each RPC lives in its own file (ImageServiceAdapter.&lt;Rpc&gt;.cs): it
/// validates the request, calls the image manager and maps the answer.
/// </summary>
public sealed partial class ImageServiceAdapter : Runtime.V1.ImageService.ImageServiceBase
{
    private readonly ImageManager _images;
    private readonly ILogger<ImageServiceAdapter> _logger;

    public ImageServiceAdapter(ImageManager images, ILogger<ImageServiceAdapter> logger)
    {
        _images = images;
        _logger = logger;
    }
}
