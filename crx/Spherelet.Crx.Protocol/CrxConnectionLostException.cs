namespace Spherelet.Crx.Protocol;

/// <summary>The peer went away (closed the channel, or the VM stopped) before answering.</summary>
public sealed class CrxConnectionLostException : Exception
{
    public CrxConnectionLostException(string message)
        : base(message)
    {
    }

    public CrxConnectionLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
