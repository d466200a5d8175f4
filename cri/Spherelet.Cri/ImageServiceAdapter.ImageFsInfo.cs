using Grpc.Core;
using Runtime.V1;

namespace Spherelet.Cri;

public sealed partial class ImageServiceAdapter
{
    public override Task<ImageFsInfoResponse> ImageFsInfo(ImageFsInfoRequest request, ServerCallContext context)
    {
        var response = new ImageFsInfoResponse();
        response.ImageFilesystems.Add(ImageMapping.ToCri(_images.Usage()));
        return Task.FromResult(response);
    }
}
