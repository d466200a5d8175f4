using Spherelet.Domain.Containers;
using Spherelet.Images;

namespace Spherelet.Agent.Containers;

/// <summary>An image is in use while a container (in any state) runs it: such an image cannot be removed.</summary>
public sealed class ContainerImageUsage : IImageUsage
{
    private readonly Lazy<ContainerService> _containers;

    /// <param name="containers">Resolved on first use (the container service and the image manager are built in either order).</param>
    public ContainerImageUsage(Lazy<ContainerService> containers)
    {
        _containers = containers;
    }

    public string? FindUser(string imageId) => _containers.Value.FindImageUser(imageId);
}
