namespace Spherelet.Domain.Errors;

/// <summary>The guest took the request but failed to carry it out (crun failed, for example); the message is the guest's.</summary>
public sealed class GuestOperationFailedException : SphereletException
{
    public GuestOperationFailedException(string message)
        : base(message)
    {
    }

    public GuestOperationFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
