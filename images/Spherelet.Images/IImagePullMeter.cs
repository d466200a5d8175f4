namespace Spherelet.Images;

/// <summary>What the image manager tells about each pull it runs (one per reference at a time, however many callers wait on it).</summary>
public interface IImagePullMeter
{
    /// <summary>A pull stored its image; <paramref name="fetchedBytes"/> is what came from the registry (layers already here cost nothing).</summary>
    void Pulled(TimeSpan duration, long fetchedBytes);

    /// <summary>A pull failed: <paramref name="reason"/> is an <see cref="ImageErrorKind"/> in snake case, or <c>io</c>, <c>canceled</c> or <c>other</c>.</summary>
    void Failed(TimeSpan duration, long fetchedBytes, string reason);
}
