namespace Spherelet.Domain.Errors;

/// <summary>A pod's guest (its CRX) cannot be reached: the VM is still booting, has stopped, or stopped answering.</summary>
public sealed class GuestUnavailableException : SphereletException
{
    public GuestUnavailableException(string message)
        : base(message)
    {
    }

    public GuestUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
