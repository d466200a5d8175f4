namespace Spherelet.Images;

/// <summary>Tells whether an image is used by a container (such an image cannot be removed).</summary>
public interface IImageUsage
{
    /// <returns>A description of the user ("container ID") or null when the image is free.</returns>
    string? FindUser(string imageId);
}
