namespace Spherelet.Domain.Errors;

/// <summary>Open vSwitch or the host's network stack failed to carry out a change; the message names the command and its error.</summary>
public sealed class NetworkOperationFailedException : SphereletException
{
    public NetworkOperationFailedException(string message)
        : base(message)
    {
    }

    public NetworkOperationFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
