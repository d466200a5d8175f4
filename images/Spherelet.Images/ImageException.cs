namespace Spherelet.Images;

/// <summary>A failed image operation; <see cref="Kind"/> says what kind of failure it is.</summary>
public sealed class ImageException : Exception
{
    public ImageException(ImageErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public ImageException(ImageErrorKind kind, string message, Exception innerException)
        : base(message, innerException)
    {
        Kind = kind;
    }

    public ImageErrorKind Kind { get; }
}
