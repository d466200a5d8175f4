using Spherelet.Images;

namespace Spherelet.IntegrationTests.Images;

/// <summary>Says one image is used by a container (until containers exist, tests name the user).</summary>
internal sealed class FixedUsage(string imageId) : IImageUsage
{
    public string? FindUser(string id) => id == imageId ? "container test-container" : null;
}
