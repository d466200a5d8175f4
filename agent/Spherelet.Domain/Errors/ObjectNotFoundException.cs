namespace Spherelet.Domain.Errors;

/// <summary>The object the request names does not exist.</summary>
public sealed class ObjectNotFoundException : SphereletException
{
    public ObjectNotFoundException(string message)
        : base(message)
    {
    }

    public ObjectNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
