namespace Spherelet.Crx.Protocol;

/// <summary>CRX answered a call with an error.</summary>
public sealed class CrxCallException : Exception
{
    public CrxCallException(string code, string message)
        : base($"{code}: {message}")
    {
        Code = code;
        Detail = message;
    }

    /// <summary>One of <see cref="CrxProtocol.Codes"/>.</summary>
    public string Code { get; }

    public string Detail { get; }
}
