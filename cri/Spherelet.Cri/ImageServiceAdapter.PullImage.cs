using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class ImageServiceAdapter
{
    public override async Task<PullImageResponse> PullImage(PullImageRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        var image = await _images.PullAsync(ImageMapping.ImageName(request.Image), ImageMapping.Credentials(request.Auth), context.CancellationToken);
        return new PullImageResponse { ImageRef = image.Id };
    }
}
