using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class ImageServiceAdapter
{
    public override async Task<RemoveImageResponse> RemoveImage(RemoveImageRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await _images.RemoveAsync(ImageMapping.ImageName(request.Image), context.CancellationToken);
        return new RemoveImageResponse();
    }
}
