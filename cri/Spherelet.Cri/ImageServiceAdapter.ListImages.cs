using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class ImageServiceAdapter
{
    public override Task<ListImagesResponse> ListImages(ListImagesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var response = new ListImagesResponse();
        response.Images.AddRange(_images.List(request.Filter?.Image?.Image).Select(ImageMapping.ToCri));
        return Task.FromResult(response);
    }
}
