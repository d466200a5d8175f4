namespace Spherelet.Domain.Errors;

/// <summary>
/// Base of the typed errors the domain raises. Each subclass stands for one kind of
/// failure that a caller can act on; the CRI layer maps them to gRPC status codes in
/// one place (Spherelet.Cri.CriErrorInterceptor).
/// </summary>
public abstract class SphereletException : Exception
{
    protected SphereletException(string message)
        : base(message)
    {
    }

    protected SphereletException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
