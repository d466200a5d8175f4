namespace Spherelet.Domain.Errors;

/// <summary>The request is malformed or names values that can never be valid; nothing was changed.</summary>
public sealed class InvalidRequestException : SphereletException
{
    public InvalidRequestException(string message)
        : base(message)
    {
    }

    public InvalidRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
