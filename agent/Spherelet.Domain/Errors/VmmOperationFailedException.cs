namespace Spherelet.Domain.Errors;

/// <summary>The VMM (libvirt) failed to carry out a request; the message is the VMM's.</summary>
public sealed class VmmOperationFailedException : SphereletException
{
    public VmmOperationFailedException(string message)
        : base(message)
    {
    }

    public VmmOperationFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
