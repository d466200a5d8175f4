namespace Spherelet.Domain.Errors;

/// <summary>The request is valid but the system is not in a state that allows it.</summary>
public sealed class PreconditionFailedException : SphereletException
{
    public PreconditionFailedException(string message)
        : base(message)
    {
    }

    public PreconditionFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
