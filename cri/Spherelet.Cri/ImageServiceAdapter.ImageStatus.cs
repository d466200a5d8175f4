using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class ImageServiceAdapter
{
    public override Task<ImageStatusResponse> ImageStatus(ImageStatusRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new ImageStatusResponse();
        // An image that is not there is not an error: the response carries no image.
        if (_images.Find(ImageMapping.ImageName(request.Image)) is { } image)
        {
            response.Image = ImageMapping.ToCri(image);
            if (request.Verbose)
            {
                response.Info.Add("info", ImageMapping.VerboseInfo(image));
            }
        }

        return Task.FromResult(response);
    }
}
