namespace Spherelet.Cri;

/// <summary>
/// CRI ImageService. No image RPC is built yet: each answers Unimplemented with a
/// message naming it until the image store lands (see <see cref="CriErrors"/>).
/// </summary>
public sealed class ImageServiceAdapter : Runtime.V1.ImageService.ImageServiceBase
{
}
