namespace Spherelet.Domain.Errors;

/// <summary>An object with the same identity already exists.</summary>
public sealed class ObjectAlreadyExistsException : SphereletException
{
    public ObjectAlreadyExistsException(string message)
        : base(message)
    {
    }

    public ObjectAlreadyExistsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
