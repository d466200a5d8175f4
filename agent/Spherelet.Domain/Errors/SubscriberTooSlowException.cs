namespace Spherelet.Domain.Errors;

/// <summary>A subscriber to the runtime's events fell so far behind that it was dropped (it subscribes again and relists).</summary>
public sealed class SubscriberTooSlowException : SphereletException
{
    public SubscriberTooSlowException(string message)
        : base(message)
    {
    }

    public SubscriberTooSlowException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
