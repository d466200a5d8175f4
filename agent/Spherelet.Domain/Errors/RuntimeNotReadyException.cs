namespace Spherelet.Domain.Errors;

/// <summary>The runtime cannot serve the request yet (for example while it recovers state), or a part it depends on is down.</summary>
public sealed class RuntimeNotReadyException : SphereletException
{
    public RuntimeNotReadyException(string message)
        : base(message)
    {
    }

    public RuntimeNotReadyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
