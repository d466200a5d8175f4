namespace Spherelet.Domain.Errors;

/// <summary>An operation did not finish within the time the caller gave it (ExecSync's timeout).</summary>
public sealed class DeadlineExceededException : SphereletException
{
    public DeadlineExceededException(string message)
        : base(message)
    {
    }

    public DeadlineExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
